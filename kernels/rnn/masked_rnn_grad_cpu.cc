// CPU gradient of one block of rows (see masked_rnn_grad_cpu.h for the plan).
#include "kernels/rnn/masked_rnn_grad_cpu.h"

#include <algorithm>
#include <vector>

#include "kernels/rnn/cell_grad.h"

namespace tftrt_masking {
namespace {

constexpr int64_t kMaxBlockRows = 32;
// Scratch elements one block may use (64 MiB of float).
constexpr int64_t kBlockScratchBudget = int64_t{16} << 20;

int64_t Width(const MaskedRnnConfig& config) { return GateCount(config.cell) * config.units; }

// Scratch elements per row: states, the recurrent products, pre-activations,
// activations, the GRU's extra block or LSTM's act(c), d_x rows.
int64_t ScratchPerRow(const MaskedRnnConfig& config) {
  return config.time * (3 * config.units + 3 * Width(config) + config.input_size) + 1;
}

// The m rows of a row-major matrix with row stride ld, as pointers.
template <typename Acc>
void RowPointers(const Acc* base, int64_t m, int64_t ld, std::vector<const Acc*>* rows) {
  rows->resize(m);
  for (int64_t i = 0; i < m; ++i) (*rows)[i] = base + i * ld;
}

template <typename Acc>
class BlockGrad {
 public:
  BlockGrad(const MaskedRnnConfig& config, const CpuGradWeights<Acc>& weights,
            const CpuGradBlock<Acc>& block)
      : config_(config),
        w_(weights),
        b_(block),
        steps_(config.time),
        features_(config.input_size),
        units_(config.units),
        width_(Width(config)),
        lstm_(config.cell == RnnCell::kLstm),
        gru_(config.cell == RnnCell::kGru),
        acts_{config.activation, config.recurrent_activation},
        zeros_(config.units, Acc(0)) {}

  void Run() {
    RecomputeStates();
    ListPairs();
    RecomputePreActivations();
    Backward();
    InputGradients();
    WeightGradients();
  }

 private:
  // The time index of processing step tau.
  int64_t TimeOf(int64_t tau) const { return config_.go_backwards ? steps_ - 1 - tau : tau; }
  bool Kept(int64_t r, int64_t tau) const {
    return b_.keep == nullptr || b_.keep[r * steps_ + TimeOf(tau)] != 0;
  }
  const Acc* StateBefore(const std::vector<Acc>& trace, const Acc* initial, int64_t r,
                         int64_t tau) const {
    if (tau > 0) return trace.data() + (r * steps_ + tau - 1) * units_;
    return initial != nullptr ? initial + r * units_ : zeros_.data();
  }

  // The forward recurrence, keeping the state after every step and the
  // recurrent products of the kept steps.
  void RecomputeStates() {
    const int64_t rows = b_.rows;
    trace_h_.resize(rows * steps_ * units_);
    if (lstm_) trace_c_.resize(rows * steps_ * units_);
    recurrent_trace_.resize(rows * steps_ * width_);
    std::vector<Acc> output(rows * (config_.return_sequences ? steps_ : 1) * units_);
    CpuRowsBlock<Acc> fwd;
    fwd.rows = rows;
    fwd.x = b_.x;
    fwd.keep = b_.keep;
    fwd.initial_h = b_.initial_h;
    fwd.initial_c = b_.initial_c;
    fwd.output = output.data();
    fwd.state_trace_h = trace_h_.data();
    fwd.state_trace_c = lstm_ ? trace_c_.data() : nullptr;
    fwd.recurrent_trace = recurrent_trace_.data();
    MaskedRnnCpuBlock(config_, w_.forward, fwd);
  }

  // Kept (row, tau) pairs, step-major: the pairs of step tau are
  // [step_begin_[tau], step_begin_[tau + 1]).
  void ListPairs() {
    step_begin_.assign(steps_ + 1, 0);
    pair_row_.clear();
    pair_tau_.clear();
    for (int64_t tau = 0; tau < steps_; ++tau) {
      step_begin_[tau] = static_cast<int64_t>(pair_row_.size());
      for (int64_t r = 0; r < b_.rows; ++r) {
        if (!Kept(r, tau)) continue;
        pair_row_.push_back(r);
        pair_tau_.push_back(tau);
      }
    }
    pairs_ = static_cast<int64_t>(pair_row_.size());
    step_begin_[steps_] = pairs_;
    x_rows_.resize(pairs_);
    h_prev_rows_.resize(pairs_);
    c_prev_rows_.resize(lstm_ ? pairs_ : 0);
    for (int64_t p = 0; p < pairs_; ++p) {
      const int64_t r = pair_row_[p], tau = pair_tau_[p];
      x_rows_[p] = b_.x + (r * steps_ + TimeOf(tau)) * features_;
      h_prev_rows_[p] = StateBefore(trace_h_, b_.initial_h, r, tau);
      if (lstm_) c_prev_rows_[p] = StateBefore(trace_c_, b_.initial_c, r, tau);
    }
  }

  // pre_ = gate pre-activations of every pair, op by op as the forward adds
  // them (so they are its bits), post_ = their activations (the forward's
  // vectorized functions). GRU: extra_ = mi_h (reset_after) or r*h_prev; LSTM:
  // act_c_ = activation(c_new).
  void RecomputePreActivations() {
    const Acc* input_bias = w_.forward.input_bias;
    const Acc* recurrent_bias = w_.forward.recurrent_bias;
    pre_.resize(pairs_ * width_);
    // LSTM adds its bias last (z = x@W + h@U; z += b), the others fold it into x@W.
    CpuGemmRows(x_rows_.data(), pairs_, features_, w_.forward.kernel, width_, width_,
                lstm_ ? nullptr : input_bias, pre_.data());
    post_.resize(pairs_ * width_);
    if (gru_) extra_.resize(pairs_ * units_);
    if (lstm_) act_c_.resize(pairs_ * units_);
    const int64_t u = units_;
    const Activation act = acts_.activation, rec_act = acts_.recurrent_activation;
    for (int64_t p = 0; p < pairs_; ++p) {
      Acc* pre = pre_.data() + p * width_;
      Acc* post = post_.data() + p * width_;
      const Acc* rec = recurrent_trace_.data() + (pair_row_[p] * steps_ + pair_tau_[p]) * width_;
      switch (config_.cell) {
        case RnnCell::kLstm: {
          for (int64_t n = 0; n < width_; ++n) pre[n] = pre[n] + rec[n];
          if (input_bias != nullptr) {
            for (int64_t n = 0; n < width_; ++n) pre[n] = pre[n] + input_bias[n];
          }
          std::copy_n(pre, width_, post);
          CpuApplyActivation(rec_act, post, 2 * u);
          CpuApplyActivation(act, post + 2 * u, u);
          CpuApplyActivation(rec_act, post + 3 * u, u);
          Acc* act_c = act_c_.data() + p * u;
          std::copy_n(trace_c_.data() + (pair_row_[p] * steps_ + pair_tau_[p]) * u, u, act_c);
          CpuApplyActivation(act, act_c, u);
          break;
        }
        case RnnCell::kGru: {
          Acc* extra = extra_.data() + p * u;
          for (int64_t n = 0; n < 2 * u; ++n) {
            const Acc inner = recurrent_bias != nullptr ? rec[n] + recurrent_bias[n] : rec[n];
            pre[n] = pre[n] + inner;
          }
          std::copy_n(pre, 2 * u, post);
          CpuApplyActivation(rec_act, post, 2 * u);
          const Acc* reset = post + u;
          for (int64_t n = 0; n < u; ++n) {
            if (config_.reset_after) {
              extra[n] = recurrent_bias != nullptr ? rec[2 * u + n] + recurrent_bias[2 * u + n]
                                                   : rec[2 * u + n];
              pre[2 * u + n] = pre[2 * u + n] + reset[n] * extra[n];
            } else {  // the trace holds (r*h_prev) @ U_h there
              extra[n] = reset[n] * h_prev_rows_[p][n];
              pre[2 * u + n] = pre[2 * u + n] + rec[2 * u + n];
            }
          }
          std::copy_n(pre + 2 * u, u, post + 2 * u);
          CpuApplyActivation(act, post + 2 * u, u);
          break;
        }
        case RnnCell::kSimpleRnn:
          for (int64_t n = 0; n < width_; ++n) pre[n] = pre[n] + rec[n];
          std::copy_n(pre, width_, post);
          CpuApplyActivation(act, post, width_);
          break;
      }
    }
  }

  // tau = T-1..0 with Keras' carry rules. Overwrites pre_ with the input-side
  // gate gradients dG and (GRU reset_after) extra_ with dL/dmi_h.
  void Backward() {
    const int64_t rows = b_.rows;
    std::vector<Acc> d_h(rows * units_, Acc(0)), d_c(lstm_ ? rows * units_ : 0, Acc(0));
    std::vector<Acc> carry(rows * units_, Acc(0));  // dL/dy_tau from y_{tau+1}
    if (b_.d_final_h != nullptr) std::copy_n(b_.d_final_h, rows * units_, d_h.begin());
    if (lstm_ && b_.d_final_c != nullptr) std::copy_n(b_.d_final_c, rows * units_, d_c.begin());
    std::vector<Acc> partial_h(rows * units_), product(rows * units_), d_rh(rows * units_);
    std::vector<const Acc*> a_rows(rows);
    pre_z_r_.resize(gru_ ? rows * 2 * units_ : 0);
    const Acc* recurrent_t = w_.recurrent_kernel_t.data();  // [G*U, U]
    for (int64_t tau = steps_ - 1; tau >= 0; --tau) {
      // The output gradient of this step plus the carry, in carry.
      for (int64_t r = 0; r < rows; ++r) {
        const Acc* dy = OutputGradient(r, tau);
        Acc* g = carry.data() + r * units_;
        if (dy != nullptr) {
          for (int64_t n = 0; n < units_; ++n) g[n] += dy[n];
        }
        if (!Kept(r, tau) && config_.zero_output_for_mask) std::fill_n(g, units_, Acc(0));
      }
      const int64_t p0 = step_begin_[tau], kept = step_begin_[tau + 1] - p0;
      for (int64_t j = 0; j < kept; ++j) {
        const int64_t p = p0 + j, r = pair_row_[p];
        Acc* g = carry.data() + r * units_;
        Acc* dh = d_h.data() + r * units_;
        for (int64_t n = 0; n < units_; ++n) dh[n] += g[n];
        std::fill_n(g, units_, Acc(0));  // o is y_tau: nothing flows to y_{tau-1}
        CellStep(p, dh, lstm_ ? d_c.data() + r * units_ : nullptr, partial_h.data() + j * units_);
      }
      if (kept == 0) continue;
      // d_h_prev = element-wise part + dG_recurrent @ U^T.
      const int64_t direct_depth = gru_ ? 2 * units_ : width_;
      for (int64_t j = 0; j < kept; ++j) a_rows[j] = pre_.data() + (p0 + j) * width_;
      if (gru_ && !config_.reset_after) {
        // d(r*h_prev) = dG_h @ U_h^T, then the reset gate's element-wise part.
        for (int64_t j = 0; j < kept; ++j) a_rows[j] += 2 * units_;
        CpuGemmRows(a_rows.data(), kept, units_, recurrent_t + 2 * units_ * units_, units_, units_,
                    static_cast<const Acc*>(nullptr), d_rh.data());
        for (int64_t j = 0; j < kept; ++j) {
          Acc* pre = pre_.data() + (p0 + j) * width_;
          const Acc* h_prev = h_prev_rows_[p0 + j];
          for (int64_t n = 0; n < units_; ++n) {
            const auto reset = GruResetBeforeResetGradWithActivations(
                acts_.recurrent_activation, pre_z_r_[j * 2 * units_ + units_ + n],
                post_[(p0 + j) * width_ + units_ + n], h_prev[n], d_rh[j * units_ + n]);
            pre[units_ + n] = reset.d_r;
            partial_h[j * units_ + n] += reset.d_h_prev_partial;
          }
          a_rows[j] = pre;
        }
      }
      CpuGemmRows(a_rows.data(), kept, direct_depth, recurrent_t, units_, units_,
                  static_cast<const Acc*>(nullptr), product.data());
      AddInto(product.data(), kept * units_, partial_h.data());
      if (gru_ && config_.reset_after) {
        for (int64_t j = 0; j < kept; ++j) a_rows[j] = extra_.data() + (p0 + j) * units_;
        CpuGemmRows(a_rows.data(), kept, units_, recurrent_t + 2 * units_ * units_, units_, units_,
                    static_cast<const Acc*>(nullptr), product.data());
        AddInto(product.data(), kept * units_, partial_h.data());
      }
      for (int64_t j = 0; j < kept; ++j) {
        std::copy_n(partial_h.data() + j * units_, units_, d_h.data() + pair_row_[p0 + j] * units_);
      }
    }
    std::copy_n(d_h.data(), rows * units_, b_.d_initial_h);
    if (lstm_) std::copy_n(d_c.data(), rows * units_, b_.d_initial_c);
  }

  static void AddInto(const Acc* src, int64_t n, Acc* dst) {
    for (int64_t i = 0; i < n; ++i) dst[i] += src[i];
  }

  // dL/dy_tau given by the caller for row r, or nullptr.
  const Acc* OutputGradient(int64_t r, int64_t tau) const {
    if (b_.d_output == nullptr) return nullptr;
    if (config_.return_sequences) return b_.d_output + (r * steps_ + tau) * units_;
    return tau == steps_ - 1 ? b_.d_output + r * units_ : nullptr;
  }

  // Element-wise backward of pair p (j-th of its step): d_h is the total
  // dL/dh_new, d_c dL/dc_new (updated to dL/dc_prev); writes dG over pre_ and
  // the element-wise part of dL/dh_prev into partial_h.
  void CellStep(int64_t p, const Acc* d_h, Acc* d_c, Acc* partial_h) {
    Acc* pre = pre_.data() + p * width_;
    const Acc* post = post_.data() + p * width_;
    const Acc* h_prev = h_prev_rows_[p];
    const int64_t u = units_;
    switch (config_.cell) {
      case RnnCell::kLstm: {
        const Acc* c_prev = c_prev_rows_[p];
        const Acc* c = trace_c_.data() + (pair_row_[p] * steps_ + pair_tau_[p]) * u;
        const Acc* act_c = act_c_.data() + p * u;
        for (int64_t n = 0; n < u; ++n) {
          const auto grad = LstmStepGradWithActivations(
              acts_.activation, acts_.recurrent_activation, pre[n], pre[u + n], pre[2 * u + n],
              pre[3 * u + n], post[n], post[u + n], post[2 * u + n], post[3 * u + n], c_prev[n],
              c[n], act_c[n], d_h[n], d_c[n]);
          pre[n] = grad.d_i;
          pre[u + n] = grad.d_f;
          pre[2 * u + n] = grad.d_g;
          pre[3 * u + n] = grad.d_o;
          d_c[n] = grad.d_c_prev;
          partial_h[n] = Acc(0);
        }
        break;
      }
      case RnnCell::kGru: {
        Acc* extra = extra_.data() + p * u;
        const int64_t j = p - step_begin_[pair_tau_[p]];
        if (!config_.reset_after) {  // z_r is needed after the d(r*h) product
          std::copy_n(pre, 2 * u, pre_z_r_.data() + j * 2 * u);
        }
        for (int64_t n = 0; n < u; ++n) {
          const auto grad =
              config_.reset_after
                  ? GruResetAfterStepGradWithActivations(
                        acts_.activation, acts_.recurrent_activation, pre[n], pre[u + n],
                        pre[2 * u + n], post[n], post[u + n], post[2 * u + n], extra[n],
                        h_prev[n], d_h[n])
                  : GruResetBeforeStepGradWithActivations(
                        acts_.activation, acts_.recurrent_activation, pre[n], pre[2 * u + n],
                        post[n], post[2 * u + n], h_prev[n], d_h[n]);
          pre[n] = grad.d_z;
          pre[u + n] = grad.d_r;
          pre[2 * u + n] = grad.d_h_input;
          if (config_.reset_after) extra[n] = grad.d_h_recurrent;
          partial_h[n] = grad.d_h_prev_partial;
        }
        break;
      }
      case RnnCell::kSimpleRnn:
        for (int64_t n = 0; n < u; ++n) {
          pre[n] = SimpleRnnStepGradWithActivation(acts_.activation, pre[n], post[n], d_h[n]);
          partial_h[n] = Acc(0);
        }
        break;
    }
  }

  // d_x_t = dG @ W^T on kept pairs, 0 elsewhere.
  void InputGradients() {
    std::fill_n(b_.d_x, b_.rows * steps_ * features_, Acc(0));
    std::vector<const Acc*> g_rows;
    RowPointers(pre_.data(), pairs_, width_, &g_rows);
    std::vector<Acc> d_x(pairs_ * features_);
    CpuGemmRows(g_rows.data(), pairs_, width_, w_.kernel_t.data(), features_, features_,
                static_cast<const Acc*>(nullptr), d_x.data());
    for (int64_t p = 0; p < pairs_; ++p) {
      std::copy_n(d_x.data() + p * features_, features_,
                  b_.d_x + (pair_row_[p] * steps_ + TimeOf(pair_tau_[p])) * features_);
    }
  }

  // out[:rows_out, :n] (row stride ld_out) = left^T @ g: left holds one row
  // pointer per pair (length rows_out), g is [pairs, n] with row stride ldg.
  // The sum over pairs runs in chunks whose slice of g stays in cache, added
  // in chunk order.
  void TransposedProduct(const std::vector<const Acc*>& left, int64_t rows_out, const Acc* g,
                         int64_t ldg, int64_t n, Acc* out, int64_t ld_out) {
    constexpr int64_t kDepthChunk = 256;
    std::vector<Acc> left_t(rows_out * pairs_);
    for (int64_t p = 0; p < pairs_; ++p) {
      for (int64_t k = 0; k < rows_out; ++k) left_t[k * pairs_ + p] = left[p][k];
    }
    std::vector<const Acc*> a_rows(rows_out);
    std::vector<Acc> sum(rows_out * n, Acc(0)), product(rows_out * n);
    for (int64_t p0 = 0; p0 < pairs_; p0 += kDepthChunk) {
      const int64_t depth = std::min(kDepthChunk, pairs_ - p0);
      for (int64_t k = 0; k < rows_out; ++k) a_rows[k] = left_t.data() + k * pairs_ + p0;
      CpuGemmRows(a_rows.data(), rows_out, depth, g + p0 * ldg, ldg, n,
                  static_cast<const Acc*>(nullptr), product.data());
      AddInto(product.data(), rows_out * n, sum.data());
    }
    for (int64_t k = 0; k < rows_out; ++k) std::copy_n(sum.data() + k * n, n, out + k * ld_out);
  }

  // partial = [X^T dG, Hprev^T dG_recurrent, column sums].
  void WeightGradients() {
    Acc* d_kernel = b_.partial;
    Acc* d_recurrent = d_kernel + features_ * width_;
    Acc* d_bias = d_recurrent + units_ * width_;
    TransposedProduct(x_rows_, features_, pre_.data(), width_, width_, d_kernel, width_);
    if (!gru_) {
      TransposedProduct(h_prev_rows_, units_, pre_.data(), width_, width_, d_recurrent, width_);
    } else {
      TransposedProduct(h_prev_rows_, units_, pre_.data(), width_, 2 * units_, d_recurrent, width_);
      if (config_.reset_after) {  // mi_h = h_prev @ U_h + b_rec_h
        TransposedProduct(h_prev_rows_, units_, extra_.data(), units_, units_,
                          d_recurrent + 2 * units_, width_);
      } else {  // (r*h_prev) @ U_h
        std::vector<const Acc*> rh_rows;
        RowPointers(extra_.data(), pairs_, units_, &rh_rows);
        TransposedProduct(rh_rows, units_, pre_.data() + 2 * units_, width_, units_,
                          d_recurrent + 2 * units_, width_);
      }
    }
    if (!config_.has_bias) return;
    std::fill_n(d_bias, BiasSize(config_), Acc(0));
    for (int64_t p = 0; p < pairs_; ++p) AddInto(pre_.data() + p * width_, width_, d_bias);
    if (gru_ && config_.reset_after) {  // recurrent bias: dz, dr as above; h block dL/dmi_h
      Acc* d_recurrent_bias = d_bias + width_;
      std::copy_n(d_bias, 2 * units_, d_recurrent_bias);
      for (int64_t p = 0; p < pairs_; ++p) {
        AddInto(extra_.data() + p * units_, units_, d_recurrent_bias + 2 * units_);
      }
    }
  }

  const MaskedRnnConfig& config_;
  const CpuGradWeights<Acc>& w_;
  const CpuGradBlock<Acc>& b_;
  const int64_t steps_, features_, units_, width_;
  const bool lstm_, gru_;
  const struct {
    Activation activation, recurrent_activation;
  } acts_;
  const std::vector<Acc> zeros_;
  std::vector<Acc> trace_h_, trace_c_, recurrent_trace_, pre_, post_, extra_, act_c_, pre_z_r_;
  std::vector<int64_t> step_begin_, pair_row_, pair_tau_;
  int64_t pairs_ = 0;
  std::vector<const Acc*> x_rows_, h_prev_rows_, c_prev_rows_;
};

}  // namespace

int64_t MaskedRnnGradCpuBlockRows(const MaskedRnnConfig& config) {
  return std::max<int64_t>(1, std::min(kMaxBlockRows, kBlockScratchBudget / ScratchPerRow(config)));
}

int64_t MaskedRnnGradCpuBlockCount(const MaskedRnnConfig& config) {
  const int64_t rows = MaskedRnnGradCpuBlockRows(config);
  return (config.batch + rows - 1) / rows;
}

int64_t MaskedRnnGradCpuPartialSize(const MaskedRnnConfig& config) {
  return (config.input_size + config.units) * Width(config) +
         (config.has_bias ? BiasSize(config) : 0);
}

int64_t MaskedRnnGradCpuCostPerBlock(const MaskedRnnConfig& config) {
  // About three forwards' work: recompute, backward products, weight products.
  return 3 * MaskedRnnCpuCostPerRow(config) * MaskedRnnGradCpuBlockRows(config);
}

void MaskedRnnGradCpuBlockAcc(const MaskedRnnConfig& config, const CpuGradWeights<float>& weights,
                              const CpuGradBlock<float>& block) {
  BlockGrad<float>(config, weights, block).Run();
}

void MaskedRnnGradCpuBlockAcc(const MaskedRnnConfig& config,
                              const CpuGradWeights<double>& weights,
                              const CpuGradBlock<double>& block) {
  BlockGrad<double>(config, weights, block).Run();
}

}  // namespace tftrt_masking
