"""Bazel test sharding for the corpus (shard_count in BUILD): every test of
one corpus case (same parameters) runs in the same shard, cases spread
round-robin over the shards."""

import os
from pathlib import Path


def pytest_collection_modifyitems(config, items):  # pylint: disable=unused-argument
  total = int(os.environ.get("TEST_TOTAL_SHARDS", "1"))
  if total <= 1:
    return
  index = int(os.environ.get("TEST_SHARD_INDEX", "0"))
  if os.environ.get("TEST_SHARD_STATUS_FILE"):
    Path(os.environ["TEST_SHARD_STATUS_FILE"]).touch()  # says: this runner shards
  case_ids = []
  for item in items:
    case = getattr(getattr(item, "callspec", None), "id", item.nodeid)
    if case not in case_ids:
      case_ids.append(case)
  mine = set(case_ids[index::total])
  kept = [item for item in items
          if getattr(getattr(item, "callspec", None), "id", item.nodeid) in mine]
  items[:] = kept
