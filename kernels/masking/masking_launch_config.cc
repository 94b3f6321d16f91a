#include <algorithm>

#include "kernels/masking/masking.h"

namespace tftrt_masking {

MaskingLaunchConfig GetMaskingLaunchConfig(int64_t rows, int64_t features) {
  MaskingLaunchConfig config;
  if (rows <= 0) return config;
  // Lanes of one warp cooperate on a row: as many as there are features (a
  // power of two, at most 32), so short rows do not leave lanes idle.
  int32_t lanes = 1;
  while (lanes < 32 && lanes < features) lanes *= 2;
  config.lanes_per_row = lanes;
  config.block = 256;
  config.rows_per_block = config.block / lanes;
  const int64_t blocks_needed = (rows + config.rows_per_block - 1) / config.rows_per_block;
  // Grid-stride loop beyond this: keeps the grid far inside CUDA's 2^31 - 1 limit.
  constexpr int64_t kMaxBlocks = int64_t{1} << 20;
  config.grid = std::min(blocks_needed, kMaxBlocks);
  return config;
}

MaskingKernelKind ChooseMaskingKernel(int64_t features, int64_t element_bytes, bool aligned) {
  if (!aligned || features <= 0 || element_bytes <= 0 || 16 % element_bytes != 0) {
    return MaskingKernelKind::kScalar;
  }
  const bool whole_vectors = features % (16 / element_bytes) == 0;
  // Rows of 1, 2, 4 or 8 vectors: the tile kernel's shared-memory round trip
  // cost 75% of copy at fp16 F = 8 and 79-85% at fp16 F = 64; one vector per
  // lane, 8 rows per thread in flight, straight through.
  if (whole_vectors) {
    const int64_t vectors = features / (16 / element_bytes);
    if (vectors == 1 || vectors == 2 || vectors == 4 || vectors == 8) {
      return MaskingKernelKind::kShortRows;
    }
  }
  // Compared as a feature count: no overflow for absurd feature counts.
  const bool fits_tile = features <= kMaskingTileMaxRowBytes / element_bytes;
  // Rows of >= 256 bytes give a vector-kernel lane group enough bytes in flight
  // (~95% of copy); shorter ones do not (77-79%), and odd rows would otherwise
  // take the scalar kernel (19% at F = 7).
  if (fits_tile && (features * element_bytes < 256 || !whole_vectors)) {
    return MaskingKernelKind::kTile;
  }
  return whole_vectors ? MaskingKernelKind::kVector : MaskingKernelKind::kScalar;
}

MaskingTileConfig GetMaskingTileConfig(int64_t rows, int64_t row_bytes, int64_t resident_blocks) {
  MaskingTileConfig config;
  if (rows <= 0 || row_bytes <= 0 || row_bytes > kMaskingTileMaxRowBytes) return config;
  config.block = kMaskingTileThreads;
  // As many whole rows as fit, in steps of 16 rows: 16 rows of any length are a
  // whole number of 16-byte vectors, so every tile starts on a vector.
  config.tile_rows = static_cast<int32_t>(kMaskingTileBytes / row_bytes / 16 * 16);
  // Few long rows per tile: several lanes scan each row so that most threads work.
  int32_t lanes = 1;
  while (lanes < 32 && int64_t{config.tile_rows} * lanes * 2 <= config.block) lanes *= 2;
  config.lanes_per_row = lanes;
  // One wave of blocks that loop over the tiles: each block loads its next tile
  // while it finishes the current one, and no block waits for a second wave.
  const int64_t tiles = (rows + config.tile_rows - 1) / config.tile_rows;
  config.grid = std::min(tiles, std::max<int64_t>(resident_blocks, 1));
  return config;
}

}  // namespace tftrt_masking
