// GPU harness of the TensorRT plugins, without TensorRT: drives one plugin the
// way TensorRT's builder and runtime would, on one case written by harness.py.
//
//   pluginHarness CASE_DIR
//
// CASE_DIR/case.txt (written by harness.py):
//   plugin Masking|MaskedRnn
//   dtype float32|float16
//   int <field> <value>      (kINT32 plugin field)
//   float <field> <value>    (kFLOAT32 plugin field)
//   input <name> <rank> <d0> <d1> ...   (data in in_<index>.bin; mask inputs int32)
// Steps: create through the creator with the fields; check getNbOutputs, the
// output dimensions (concrete IExprBuilder, with batch/time symbolic and then
// concrete), getOutputDataType, supportsFormatCombination for the types used;
// configurePlugin with dynamic batch/time (-1, min/max); serialize, deserialize
// through the creator and check the bytes; getWorkspaceSize; enqueue the
// DESERIALIZED plugin on a stream; write out_<i>.bin and out_<i>.shape.
// Exit code 0 only when every check passed and enqueue returned 0.
#include <cuda_runtime_api.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "trt_converter/plugins/common/pluginUtils.h"
#include "trt_converter/plugins/harness/concreteExprBuilder.h"
#include "trt_converter/plugins/maskedRnnPlugin/maskedRnnPlugin.h"
#include "trt_converter/plugins/maskingPlugin/maskingPlugin.h"
#include "trt_converter/plugins/pluginRegistration.h"

namespace {

using nvinfer1::DataType;
using nvinfer1::TensorFormat;
using tftrt_masking::plugin::testing_support::TestExprBuilder;

int gFailures = 0;

void check(bool ok, std::string const& what) {
  if (!ok) {
    ++gFailures;
    std::cerr << "CHECK FAILED: " << what << "\n";
  }
}

#define CUDA_OR_DIE(call)                                                                    \
  do {                                                                                       \
    cudaError_t e_ = (call);                                                                 \
    if (e_ != cudaSuccess) {                                                                 \
      std::cerr << #call << ": " << cudaGetErrorString(e_) << "\n";                          \
      std::exit(3);                                                                          \
    }                                                                                        \
  } while (0)

struct Input {
  std::string name;
  std::vector<int32_t> dims;
};

struct Case {
  std::string plugin;
  DataType dtype = DataType::kFLOAT;
  std::vector<std::string> fieldNames;
  std::vector<int32_t> intValues;
  std::vector<float> floatValues;
  std::vector<nvinfer1::PluginField> fields;
  std::vector<Input> inputs;
};

Case readCase(std::string const& dir) {
  std::ifstream file(dir + "/case.txt");
  if (!file) throw std::runtime_error("cannot read " + dir + "/case.txt");
  Case c;
  std::string line;
  std::vector<std::pair<std::string, int>> pending;  // name, 0 int / 1 float
  while (std::getline(file, line)) {
    std::istringstream in(line);
    std::string key;
    in >> key;
    if (key == "plugin") {
      in >> c.plugin;
    } else if (key == "dtype") {
      std::string d;
      in >> d;
      c.dtype = d == "float16" ? DataType::kHALF : DataType::kFLOAT;
    } else if (key == "int") {
      std::string name;
      int32_t value;
      in >> name >> value;
      c.fieldNames.push_back(name);
      c.intValues.push_back(value);
      pending.push_back({name, 0});
    } else if (key == "float") {
      std::string name;
      float value;
      in >> name >> value;
      c.fieldNames.push_back(name);
      c.floatValues.push_back(value);
      pending.push_back({name, 1});
    } else if (key == "input") {
      Input input;
      int rank;
      in >> input.name >> rank;
      input.dims.resize(rank);
      for (int& d : input.dims) in >> d;
      c.inputs.push_back(input);
    }
  }
  // Field pointers only once the vectors stop growing.
  size_t nextInt = 0, nextFloat = 0;
  for (size_t i = 0; i < pending.size(); ++i) {
    char const* name = c.fieldNames[i].c_str();
    if (pending[i].second == 0) {
      c.fields.push_back({name, &c.intValues[nextInt++], nvinfer1::PluginFieldType::kINT32, 1});
    } else {
      c.fields.push_back({name, &c.floatValues[nextFloat++], nvinfer1::PluginFieldType::kFLOAT32, 1});
    }
  }
  return c;
}

std::vector<char> readFile(std::string const& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) throw std::runtime_error("cannot read " + path);
  return std::vector<char>(std::istreambuf_iterator<char>(file), {});
}

size_t elementSize(DataType t) { return t == DataType::kHALF ? 2 : 4; }

int64_t volume(std::vector<int32_t> const& dims) {
  int64_t v = 1;
  for (int32_t d : dims) v *= d;
  return v;
}

nvinfer1::PluginTensorDesc makeDesc(DataType type, std::vector<int32_t> const& dims) {
  nvinfer1::PluginTensorDesc d{};
  d.dims.nbDims = static_cast<int32_t>(dims.size());
  for (size_t i = 0; i < dims.size(); ++i) d.dims.d[i] = dims[i];
  d.type = type;
  d.format = TensorFormat::kLINEAR;
  d.scale = 1.0f;
  return d;
}

bool isMaskInput(Case const& c, size_t index) { return c.inputs[index].name == "mask"; }

// Batch and time: the dynamic dimensions (axes 0 and 1 of x, mask and states).
bool isDynamicAxis(Case const& c, size_t index, size_t axis) {
  std::string const& name = c.inputs[index].name;
  if (c.plugin == "Masking") return axis < 2;
  if (name == "x" || name == "mask") return axis < 2;
  if (name == "initial_h" || name == "initial_c") return axis == 0;
  return false;
}

int run(std::string const& dir) {
  Case c = readCase(dir);
  int32_t nbCreators = 0;
  nvinfer1::IPluginCreator* const* creators = getPluginCreators(nbCreators);
  nvinfer1::IPluginCreator* creator = nullptr;
  for (int32_t i = 0; i < nbCreators; ++i) {
    if (c.plugin == creators[i]->getPluginName()) creator = creators[i];
  }
  if (!creator) throw std::runtime_error("no creator for " + c.plugin);
  nvinfer1::PluginFieldCollection fc{static_cast<int32_t>(c.fields.size()), c.fields.data()};
  auto* built = static_cast<nvinfer1::IPluginV2DynamicExt*>(creator->createPlugin("harness", &fc));
  if (!built) throw std::runtime_error(std::string("createPlugin failed: ") +
                                       tftrt_masking::plugin::lastPluginError());
  int32_t const nbInputs = static_cast<int32_t>(c.inputs.size());
  int32_t const nbOutputs = built->getNbOutputs();

  // Types: x's type everywhere but the int32 mask input (and Masking's mask output).
  std::vector<DataType> inputTypes;
  for (int32_t i = 0; i < nbInputs; ++i) inputTypes.push_back(isMaskInput(c, i) ? DataType::kINT32 : c.dtype);
  std::vector<DataType> outputTypes;
  for (int32_t o = 0; o < nbOutputs; ++o) outputTypes.push_back(built->getOutputDataType(o, inputTypes.data(), nbInputs));
  if (c.plugin == "Masking") {
    check(outputTypes[0] == c.dtype && outputTypes[1] == DataType::kINT32, "Masking output types");
  } else {
    for (DataType t : outputTypes) check(t == c.dtype, "MaskedRnn output type follows x");
  }

  // Output dimensions: symbolic batch/time must pass through; concrete ones give sizes.
  std::vector<std::vector<int32_t>> outputDims(nbOutputs);
  {
    TestExprBuilder builder;
    std::vector<nvinfer1::DimsExprs> symbolic(nbInputs), concrete(nbInputs);
    for (int32_t i = 0; i < nbInputs; ++i) {
      auto const& dims = c.inputs[i].dims;
      symbolic[i].nbDims = concrete[i].nbDims = static_cast<int32_t>(dims.size());
      for (size_t a = 0; a < dims.size(); ++a) {
        concrete[i].d[a] = builder.make(dims[a]);
        symbolic[i].d[a] = isDynamicAxis(c, i, a) ? nullptr : concrete[i].d[a];
      }
    }
    nvinfer1::IDimensionExpr const* batch = builder.symbol();
    nvinfer1::IDimensionExpr const* time = builder.symbol();
    for (int32_t i = 0; i < nbInputs; ++i) {
      for (int32_t a = 0; a < symbolic[i].nbDims; ++a) {
        if (!symbolic[i].d[a]) symbolic[i].d[a] = a == 0 ? batch : time;
      }
    }
    for (int32_t o = 0; o < nbOutputs; ++o) {
      nvinfer1::DimsExprs s = built->getOutputDimensions(o, symbolic.data(), nbInputs, builder);
      check(s.nbDims > 0 && s.d[0] == batch, "output " + std::to_string(o) + " keeps the symbolic batch");
      nvinfer1::DimsExprs e = built->getOutputDimensions(o, concrete.data(), nbInputs, builder);
      check(e.nbDims > 0, "output " + std::to_string(o) + " has dimensions");
      for (int32_t a = 0; a < e.nbDims; ++a) {
        check(e.d[a]->isConstant(), "concrete output dimension");
        outputDims[o].push_back(e.d[a]->getConstantValue());
      }
    }
  }

  // Formats: the combination we use is accepted at every position; int8 x is not.
  std::vector<nvinfer1::PluginTensorDesc> io;
  for (int32_t i = 0; i < nbInputs; ++i) io.push_back(makeDesc(inputTypes[i], c.inputs[i].dims));
  for (int32_t o = 0; o < nbOutputs; ++o) io.push_back(makeDesc(outputTypes[o], outputDims[o]));
  for (int32_t pos = 0; pos < nbInputs + nbOutputs; ++pos) {
    check(built->supportsFormatCombination(pos, io.data(), nbInputs, nbOutputs),
          "supportsFormatCombination accepts position " + std::to_string(pos));
  }
  {
    auto bad = io;
    bad[0].type = DataType::kINT8;
    check(!built->supportsFormatCombination(0, bad.data(), nbInputs, nbOutputs), "int8 x refused");
  }

  // configurePlugin with dynamic batch/time, as at build time.
  std::vector<nvinfer1::DynamicPluginTensorDesc> dynIn(nbInputs), dynOut(nbOutputs);
  for (int32_t i = 0; i < nbInputs; ++i) {
    dynIn[i].desc = io[i];
    dynIn[i].min = dynIn[i].max = io[i].dims;
    for (int32_t a = 0; a < io[i].dims.nbDims; ++a) {
      if (isDynamicAxis(c, i, a)) {
        dynIn[i].desc.dims.d[a] = -1;
        dynIn[i].min.d[a] = 1;
      }
    }
  }
  for (int32_t o = 0; o < nbOutputs; ++o) dynOut[o].desc = io[nbInputs + o];
  tftrt_masking::plugin::clearLastPluginError();
  built->configurePlugin(dynIn.data(), nbInputs, dynOut.data(), nbOutputs);
  check(std::string(tftrt_masking::plugin::lastPluginError()).empty(),
        std::string("configurePlugin: ") + tftrt_masking::plugin::lastPluginError());

  // Serialize, deserialize (as the runtime does) and run the copy.
  std::vector<char> bytes(built->getSerializationSize());
  built->serialize(bytes.data());
  auto* plugin = static_cast<nvinfer1::IPluginV2DynamicExt*>(
      creator->deserializePlugin("harness", bytes.data(), bytes.size()));
  if (!plugin) throw std::runtime_error("deserializePlugin failed");
  std::vector<char> again(plugin->getSerializationSize());
  plugin->serialize(again.data());
  check(again == bytes, "serialization round trip is byte-identical");
  plugin->configurePlugin(dynIn.data(), nbInputs, dynOut.data(), nbOutputs);
  check(plugin->initialize() == 0, "initialize");

  size_t const workspaceBytes = plugin->getWorkspaceSize(io.data(), nbInputs, io.data() + nbInputs, nbOutputs);
  std::vector<void*> deviceIn(nbInputs), deviceOut(nbOutputs);
  for (int32_t i = 0; i < nbInputs; ++i) {
    std::vector<char> data = readFile(dir + "/in_" + std::to_string(i) + ".bin");
    size_t const want = volume(c.inputs[i].dims) * elementSize(inputTypes[i]);
    if (data.size() != want) throw std::runtime_error("input " + c.inputs[i].name + ": wrong byte count");
    CUDA_OR_DIE(cudaMalloc(&deviceIn[i], std::max<size_t>(want, 1)));
    CUDA_OR_DIE(cudaMemcpy(deviceIn[i], data.data(), want, cudaMemcpyHostToDevice));
  }
  std::vector<size_t> outBytes(nbOutputs);
  for (int32_t o = 0; o < nbOutputs; ++o) {
    outBytes[o] = volume(outputDims[o]) * elementSize(outputTypes[o]);
    CUDA_OR_DIE(cudaMalloc(&deviceOut[o], std::max<size_t>(outBytes[o], 1)));
    CUDA_OR_DIE(cudaMemset(deviceOut[o], 0xFF, outBytes[o]));  // garbage: every element must be written
  }
  void* workspace = nullptr;
  if (workspaceBytes) CUDA_OR_DIE(cudaMalloc(&workspace, workspaceBytes));
  cudaStream_t stream;
  CUDA_OR_DIE(cudaStreamCreate(&stream));
  int const status = plugin->enqueue(io.data(), io.data() + nbInputs, deviceIn.data(), deviceOut.data(), workspace, stream);
  check(status == 0, std::string("enqueue returned ") + std::to_string(status) + " " +
                         tftrt_masking::plugin::lastPluginError());
  CUDA_OR_DIE(cudaStreamSynchronize(stream));
  for (int32_t o = 0; o < nbOutputs; ++o) {
    std::vector<char> host(outBytes[o]);
    CUDA_OR_DIE(cudaMemcpy(host.data(), deviceOut[o], outBytes[o], cudaMemcpyDeviceToHost));
    std::ofstream(dir + "/out_" + std::to_string(o) + ".bin", std::ios::binary).write(host.data(), host.size());
    std::ofstream shape(dir + "/out_" + std::to_string(o) + ".shape");
    for (int32_t d : outputDims[o]) shape << d << " ";
    shape << (outputTypes[o] == DataType::kINT32 ? "int32" : outputTypes[o] == DataType::kHALF ? "float16" : "float32") << "\n";
  }
  CUDA_OR_DIE(cudaStreamDestroy(stream));
  for (void* p : deviceIn) CUDA_OR_DIE(cudaFree(p));
  for (void* p : deviceOut) CUDA_OR_DIE(cudaFree(p));
  if (workspace) CUDA_OR_DIE(cudaFree(workspace));
  plugin->terminate();
  plugin->destroy();
  built->destroy();
  std::cout << c.plugin << " workspace " << workspaceBytes << " bytes, serialized " << bytes.size()
            << " bytes, checks failed: " << gFailures << "\n";
  return gFailures == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: pluginHarness CASE_DIR\n";
    return 2;
  }
  try {
    return run(argv[1]);
  } catch (std::exception const& e) {
    std::cerr << "harness error: " << e.what() << "\n";
    return 2;
  }
}
