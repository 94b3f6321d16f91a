"""Which CUDA kernels one call of each row-group variant launches (torch.profiler / CUPTI):
shows that the variants run the row-group variant kernels, not the persistent ones."""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE if os.path.exists(os.path.join(HERE, "harness.py")) else
                os.path.join(HERE, "bench"))
import harness  # noqa: E402
import torch  # noqa: E402
from torch.profiler import ProfilerActivity, profile  # noqa: E402

CASES = (
    ("lstm default", dict(cell="lstm")),
    ("lstm relu/hard_sigmoid", dict(cell="lstm", activation="relu",
                                    recurrent_activation="hard_sigmoid")),
    ("gru linear/sigmoid", dict(cell="gru", activation="linear")),
    ("gru reset_after=False", dict(cell="gru", reset_after=False)),
    ("simple_rnn relu", dict(cell="simple_rnn", activation="relu")),
    ("simple_rnn tanh", dict(cell="simple_rnn")),
)
for dtype in (torch.float16, torch.float32):
  for b, h in ((8, 128), (32, 256), (128, 512)):
    if dtype == torch.float32 and h > 128:
      continue
    for name, attrs in CASES:
      attrs = dict(attrs)
      case = harness.RnnCase(attrs.pop("cell"), b, 20, 64, h, dtype, mask_kind="holes", **attrs)
      harness.set_path("auto")
      runner = harness.OursRunner(case)
      runner.run()
      torch.cuda.synchronize()
      with profile(activities=[ProfilerActivity.CUDA]) as prof:
        runner.run()
        torch.cuda.synchronize()
      names = sorted({e.name for e in prof.events() if "CUDA" in str(e.device_type)})
      short = []
      for n in names:
        for junk in ("void ", "tftrt_masking::", "rnn_gpu::", "(anonymous namespace)::"):
          n = n.replace(junk, "")
        short.append(n[:110])
      print(f"{name:24} {str(dtype)[6:]:8} B={b:3d} H={h:3d}: " + " ; ".join(short), flush=True)
