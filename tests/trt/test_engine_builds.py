"""conversion.engine_builds: which TRTEngineOps of a converted model really
got a TensorRT engine, judged as TF-TRT (TF 2.17) leaves them in the saved
model: save() writes each engine cache as the asset
"trt-serialized-engine.<engine name>", a TFRecord file of TRTEngineInstance
records, and skips engines that failed to build (TRTEngineOp then runs the
native segment in TensorFlow).

No TensorRT here: the GraphDefs and asset files are constructed the way
trt_convert.py and SerializeTRTResource write them; the real conversion path
has not run on this machine.
"""

import tensorflow as tf
from tensorflow.core.framework import graph_pb2, tensor_shape_pb2

from tftrt_masking import conversion


def _varint(value: int) -> bytes:
  out = bytearray()
  while True:
    byte = value & 0x7F
    value >>= 7
    out.append(byte | (0x80 if value else 0))
    if not value:
      return bytes(out)


def engine_instance(engine: bytes, shapes=((8, 50, 16),)) -> bytes:
  """A TRTEngineInstance proto: 1: repeated TensorShapeProto, 2: serialized_engine."""
  record = b""
  for dims in shapes:
    shape = tensor_shape_pb2.TensorShapeProto(
        dim=[tensor_shape_pb2.TensorShapeProto.Dim(size=d) for d in dims]).SerializeToString()
    record += b"\x0a" + _varint(len(shape)) + shape
  if engine:
    record += b"\x12" + _varint(len(engine)) + engine
  return record


def write_engine_asset(saved_model_dir, name, records):
  assets = saved_model_dir / "assets"
  assets.mkdir(parents=True, exist_ok=True)
  path = assets / f"{conversion.ENGINE_ASSET_PREFIX}{name}"
  with tf.io.TFRecordWriter(str(path)) as writer:  # the framing of io::RecordWriter
    for record in records:
      writer.write(record)
  return path


def converted_graph_def(engine_names, in_library=()):
  """A GraphDef with TRTEngineOps (top level, or inside a library function
  for `in_library`), each with its segment function."""
  graph_def = graph_pb2.GraphDef()
  graph_def.node.add(name="x", op="Placeholder")
  wrapper = None
  if in_library:
    wrapper = graph_def.library.function.add()
    wrapper.signature.name = "wrapper_fn"
  for name in list(engine_names) + list(in_library):
    segment = graph_def.library.function.add()
    segment.signature.name = f"{name}_native_segment"
    for op in ("Masking", "MaskedLSTM", "MatMul"):
      segment.node_def.add(name=f"{name}_{op.lower()}", op=op)
    holder = wrapper.node_def if name in in_library else graph_def.node
    node = holder.add(name=f"StatefulPartitionedCall/{name}" if name in in_library else name,
                      op="TRTEngineOp")
    node.attr["segment_func"].func.name = segment.signature.name
  graph_def.node.add(name="Identity", op="Identity")
  return graph_def


def statuses(builds):
  return {build.name: build.status for build in builds}


def test_built_failed_and_not_built(tmp_path):
  graph_def = converted_graph_def(["TRTEngineOp_000_000", "TRTEngineOp_000_001",
                                   "TRTEngineOp_000_002"])
  write_engine_asset(tmp_path, "TRTEngineOp_000_000", [engine_instance(b"plan" * 100)])
  write_engine_asset(tmp_path, "TRTEngineOp_000_001", [])  # every build failed: no record
  builds = conversion.engine_builds(graph_def, tmp_path)
  assert statuses(builds) == {"TRTEngineOp_000_000": conversion.BUILT,
                              "TRTEngineOp_000_001": conversion.BUILD_FAILED,
                              "TRTEngineOp_000_002": conversion.NOT_BUILT}
  assert builds[1].op_types == ["Masking", "MaskedLSTM", "MatMul"]


def test_a_record_without_an_engine_is_not_a_built_engine(tmp_path):
  graph_def = converted_graph_def(["TRTEngineOp_000_000"])
  write_engine_asset(tmp_path, "TRTEngineOp_000_000", [engine_instance(b"")])
  assert statuses(conversion.engine_builds(graph_def, tmp_path)) == {
      "TRTEngineOp_000_000": conversion.BUILD_FAILED}
  # Several profiles' engines: one built is enough.
  write_engine_asset(tmp_path, "TRTEngineOp_000_000",
                     [engine_instance(b""), engine_instance(b"x" * 70000, ((1, 2), (3, 4)))])
  assert statuses(conversion.engine_builds(graph_def, tmp_path)) == {
      "TRTEngineOp_000_000": conversion.BUILT}


def test_a_truncated_engine_file_is_damaged(tmp_path):
  graph_def = converted_graph_def(["TRTEngineOp_000_000"])
  path = write_engine_asset(tmp_path, "TRTEngineOp_000_000", [engine_instance(b"p" * 5000)])
  path.write_bytes(path.read_bytes()[:100])
  assert statuses(conversion.engine_builds(graph_def, tmp_path)) == {
      "TRTEngineOp_000_000": conversion.DAMAGED}


def test_engines_inside_library_functions_count_once_by_their_last_name(tmp_path):
  graph_def = converted_graph_def(["TRTEngineOp_000_000"], in_library=["TRTEngineOp_000_001"])
  write_engine_asset(tmp_path, "TRTEngineOp_000_001", [engine_instance(b"plan")])
  builds = conversion.engine_builds(graph_def, tmp_path)
  assert statuses(builds) == {"TRTEngineOp_000_000": conversion.NOT_BUILT,
                              "TRTEngineOp_000_001": conversion.BUILT}


def test_result_counts_k_of_n_and_names_the_fallbacks(tmp_path):
  graph_def = converted_graph_def(["TRTEngineOp_000_000", "TRTEngineOp_000_001"])
  write_engine_asset(tmp_path, "TRTEngineOp_000_000", [engine_instance(b"plan")])
  write_engine_asset(tmp_path, "TRTEngineOp_000_001", [])
  builds = conversion.engine_builds(graph_def, tmp_path)
  result = conversion.ConversionResult(True, str(tmp_path),
                                       conversion._build_message(tmp_path, builds),  # pylint: disable=protected-access
                                       [], builds=builds)
  assert "1 of 2 TensorRT engine(s) built, 1 fell back to TensorFlow" in result.message
  assert [b.name for b in result.fell_back] == ["TRTEngineOp_000_001"]
  assert result.anything_converted
  summary = result.summary()
  assert "TRTEngineOp_000_001: engine build FAILED, this segment runs in TensorFlow" in summary
  assert "MaskedLSTM" in summary


def test_nothing_converted_when_every_build_failed_or_there_is_no_engine(tmp_path):
  graph_def = converted_graph_def(["TRTEngineOp_000_000"])
  write_engine_asset(tmp_path, "TRTEngineOp_000_000", [])
  builds = conversion.engine_builds(graph_def, tmp_path)
  result = conversion.ConversionResult(True, str(tmp_path), "", [], builds=builds)
  assert not result.anything_converted and not result.built
  empty = conversion.engine_builds(converted_graph_def([]), tmp_path)
  assert empty == []
  assert "nothing was converted" in conversion._build_message(tmp_path, empty)  # pylint: disable=protected-access
  assert not conversion.ConversionResult(True, str(tmp_path), "", [], builds=empty) \
      .anything_converted


def test_engines_not_built_yet_still_count_as_converted(tmp_path):
  """No input_fn: TF-TRT builds the engines at the first run; not a failure."""
  builds = conversion.engine_builds(converted_graph_def(["TRTEngineOp_000_000"]), tmp_path)
  result = conversion.ConversionResult(True, str(tmp_path), "", [], builds=builds)
  assert result.anything_converted and not result.built
  assert "to be built at the first run" in conversion._build_message(tmp_path, builds)  # pylint: disable=protected-access


