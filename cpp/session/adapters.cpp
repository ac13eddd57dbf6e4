// LoraAdapter: a LoRA adapter's parameters, loaded from a file or bytes, activated per run.
#include "session/extras.hpp"

namespace ortbind {

LoraAdapter::LoraAdapter(py::handle source) {
  // Without an allocator the parameters stay on the CPU; ONNX Runtime copies them to a device when
  // the model needs them there.
  if (py::isinstance<py::str>(source) || py::hasattr(source, "__fspath__")) {
    const auto path = py::module_::import("os").attr("fsdecode")(source).cast<std::string>();
    if (path.find('\0') != std::string::npos) fail(Problem::Value, "the adapter path holds a NUL character");
    py::gil_scoped_release release;
    OrtLoraAdapter* made = nullptr;
    check(api().CreateLoraAdapter(path.c_str(), nullptr, &made));
    adapter_ = Ort::LoraAdapter(made);
  } else if (PyObject_CheckBuffer(source.ptr())) {
    Py_buffer view;
    if (PyObject_GetBuffer(source.ptr(), &view, PyBUF_CONTIG_RO) != 0) throw py::error_already_set();
    OrtStatus* status = nullptr;
    OrtLoraAdapter* made = nullptr;
    {
      // ONNX Runtime copies the bytes: the buffer is pinned only for this call.
      py::gil_scoped_release release;
      status = api().CreateLoraAdapterFromArray(view.buf, static_cast<size_t>(view.len), nullptr, &made);
    }
    PyBuffer_Release(&view);
    check(status);
    adapter_ = Ort::LoraAdapter(made);
  } else {
    fail(Problem::Kind, std::string("a LoRA adapter is loaded from a path (str or os.PathLike) or bytes-like, not ") +
                            Py_TYPE(source.ptr())->tp_name);
  }
}

std::vector<std::shared_ptr<LoraAdapter>> parse_adapters(py::handle adapters) {
  if (py::isinstance<LoraAdapter>(adapters))
    fail(Problem::Kind, "adapters must be a sequence of LoraAdapter, not one LoraAdapter");
  py::object items =
      py::reinterpret_steal<py::object>(PySequence_Fast(adapters.ptr(), "adapters must be a sequence of LoraAdapter"));
  if (!items) throw py::error_already_set();
  std::vector<std::shared_ptr<LoraAdapter>> result;
  for (Py_ssize_t i = 0; i < PySequence_Fast_GET_SIZE(items.ptr()); ++i)
    result.push_back(native_shared<LoraAdapter>(PySequence_Fast_GET_ITEM(items.ptr(), i), "ortbind.LoraAdapter"));
  return result;
}

}  // namespace ortbind
