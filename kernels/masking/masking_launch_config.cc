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

}  // namespace tftrt_masking
