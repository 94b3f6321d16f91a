// A concrete nvinfer1::IExprBuilder for driving plugins without TensorRT's
// builder: constants fold, anything else stays symbolic (unknown until run
// time). Used by the host-side plugin test and the GPU harness.
#ifndef TFTRT_MASKING_TRT_CONVERTER_PLUGINS_HARNESS_CONCRETE_EXPR_BUILDER_H_
#define TFTRT_MASKING_TRT_CONVERTER_PLUGINS_HARNESS_CONCRETE_EXPR_BUILDER_H_

#include <algorithm>
#include <deque>
#include <limits>
#include <memory>

#include "NvInferRuntime.h"

namespace tftrt_masking {
namespace plugin {
namespace testing_support {

using nvinfer1::DimensionOperation;
using nvinfer1::IDimensionExpr;

class TestExpr : public IDimensionExpr {
 public:
  // value < 0: symbolic (unknown until run time).
  explicit TestExpr(int32_t value) : mImplObject(value) { mImpl = &mImplObject; }
  ~TestExpr() noexcept override = default;

 private:
  struct Impl : nvinfer1::apiv::VDimensionExpr {
    explicit Impl(int32_t v) : value(v) {}
    bool isConstant() const override { return value >= 0; }
    int32_t getConstantValue() const override {
      return value >= 0 ? value : std::numeric_limits<int32_t>::min();
    }
    int32_t value;
  } mImplObject;
};

class TestExprBuilder : public nvinfer1::IExprBuilder {
 public:
  TestExprBuilder() : mImplObject(this) { mImpl = &mImplObject; }
  ~TestExprBuilder() noexcept override = default;

  IDimensionExpr const* make(int32_t value) {
    mExprs.push_back(std::make_unique<TestExpr>(value));
    return mExprs.back().get();
  }
  IDimensionExpr const* symbol() { return make(-1); }

 private:
  struct Impl : nvinfer1::apiv::VExprBuilder {
    explicit Impl(TestExprBuilder* owner) : owner(owner) {}
    IDimensionExpr const* constant(int32_t value) override { return owner->make(value); }
    IDimensionExpr const* operation(DimensionOperation op, IDimensionExpr const& a,
                                    IDimensionExpr const& b) override {
      if (!a.isConstant() || !b.isConstant()) return owner->symbol();
      int32_t const x = a.getConstantValue(), y = b.getConstantValue();
      switch (op) {
        case DimensionOperation::kSUM: return owner->make(x + y);
        case DimensionOperation::kPROD: return owner->make(x * y);
        case DimensionOperation::kMAX: return owner->make(std::max(x, y));
        case DimensionOperation::kMIN: return owner->make(std::min(x, y));
        case DimensionOperation::kSUB: return owner->make(x - y);
        case DimensionOperation::kEQUAL: return owner->make(x == y);
        case DimensionOperation::kLESS: return owner->make(x < y);
        case DimensionOperation::kFLOOR_DIV: return owner->make(x / y);
        case DimensionOperation::kCEIL_DIV: return owner->make((x + y - 1) / y);
      }
      return nullptr;
    }
    TestExprBuilder* owner;
  } mImplObject;
  std::deque<std::unique_ptr<TestExpr>> mExprs;
};

}  // namespace testing_support
}  // namespace plugin
}  // namespace tftrt_masking

#endif  // TFTRT_MASKING_TRT_CONVERTER_PLUGINS_HARNESS_CONCRETE_EXPR_BUILDER_H_
