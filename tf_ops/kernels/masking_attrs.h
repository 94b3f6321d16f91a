// The mask value of a Masking node, from its attrs: shared by the op kernels
// and the TF-TRT converter, so that both compare against the same number.
#ifndef TFTRT_MASKING_TF_OPS_KERNELS_MASKING_ATTRS_H_
#define TFTRT_MASKING_TF_OPS_KERNELS_MASKING_ATTRS_H_

#include <cmath>
#include <string>

#include "absl/strings/ascii.h"
#include "tensorflow/core/framework/node_def_util.h"
#include "tensorflow/core/framework/numeric_types.h"
#include "tensorflow/core/framework/types.pb.h"
#include "tensorflow/core/platform/errors.h"
#include "tensorflow/core/platform/numbers.h"

namespace tftrt_masking {

// The number x is compared against, exactly (kernels/masking/masking.h):
// exact_mask_value when given; else (graphs written before that attr) the
// float mask_value rounded to x's dtype, which is what those graphs compared
// against, so they keep their answers.
inline absl::Status MaskValueFromAttrs(const tensorflow::AttrSlice& attrs,
                                       const std::string& node_name, double* mask_value) {
  std::string exact;
  if (tensorflow::TryGetNodeAttr(attrs, "exact_mask_value", &exact) && !exact.empty()) {
    // safe_strtod accepts '0.1', '1e+300', 'inf', '-inf', 'nan' (Python's repr);
    // a finite number beyond float64 ('1e400') would come back as inf: refused.
    const bool spells_infinity = absl::AsciiStrToLower(exact).find("inf") != std::string::npos;
    if (!tensorflow::strings::safe_strtod(exact, mask_value) ||
        (std::isinf(*mask_value) && !spells_infinity)) {
      return tensorflow::errors::InvalidArgument(
          "Masking (", node_name, "): exact_mask_value must be a float64 in text such as ",
          "'0.1', '-1e+300', 'inf' or 'nan', got '", exact, "'");
    }
    return absl::OkStatus();
  }
  float legacy = 0.0f;
  TF_RETURN_IF_ERROR(tensorflow::GetNodeAttr(attrs, "mask_value", &legacy));
  tensorflow::DataType dtype = tensorflow::DT_FLOAT;
  TF_RETURN_IF_ERROR(tensorflow::GetNodeAttr(attrs, "T", &dtype));
  switch (dtype) {
    case tensorflow::DT_HALF:
      *mask_value = static_cast<float>(static_cast<Eigen::half>(legacy));
      break;
    case tensorflow::DT_BFLOAT16:
      *mask_value = static_cast<float>(static_cast<Eigen::bfloat16>(legacy));
      break;
    default:
      *mask_value = legacy;
  }
  return absl::OkStatus();
}

}  // namespace tftrt_masking

#endif  // TFTRT_MASKING_TF_OPS_KERNELS_MASKING_ATTRS_H_
