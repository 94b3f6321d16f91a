"""The README's main job (python -m tftrt_masking seed) passes its checks, and
each check can fail."""

import numpy as np

from tftrt_masking import __main__ as cli
from tftrt_masking import example


def test_seed_command_passes(capsys):
  assert cli.main(["seed", "--seed", "3"]) == 0
  out = capsys.readouterr().out
  assert "all checks passed" in out and "FAILED" not in out


def test_seed_input_masks_steps_three_and_five():
  x = example.seed_input(1)
  zero_steps = np.where(~np.any(x != 0, axis=-1).any(axis=0))[0].tolist()
  assert zero_steps == list(example.MASKED_STEPS)


def test_check_reports_failure():
  try:
    example.check("something", False, "detail")
  except example.CheckFailed as failed:
    assert str(failed) == "something"
  else:
    raise AssertionError("check() did not raise on a failed check")
