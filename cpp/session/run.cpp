// run(): the run pipeline on the calling thread, through OrtApi::Run.
#include "session/pipeline.hpp"

namespace ortbind {

py::object Session::run(py::handle feeds, py::handle out, const RunArguments& arguments) {
  ensure_open();
  RunPipeline pipeline(*this, read_request(*this, arguments));
  Call& call = pipeline.call();
  pipeline.feed(feeds);
  // Outputs of earlier runs that Python has dropped are passed back to Run to write into; not with
  // out=, whose arrays are the caller's.
  const bool own_outputs = out.is_none();
  if (own_outputs) pipeline.lease_outputs();
  pipeline.select_outputs();
  if (!own_outputs) use_preallocated(signature_, call, out);
  const bool passed_back = own_outputs && pipeline.pass_back(call.results);
  pipeline.run(
      [&](StopControl& stop) {
        return stop.around([&](OrtRunOptions* options) {
          return api().Run(session_, options, call.input_names.data(), call.inputs.data(), call.n_run_inputs,
                           call.output_names.data(), call.selected.size(), call.results.data());
        });
      },
      call.results, passed_back);
  const bool template_keys = !pipeline.request().requested && call.selected.size() >= kKeysTemplateFrom;
  return pipeline.results(template_keys ? signature_.all_keys.ptr() : nullptr);
}

py::tuple Session::check_feeds(py::handle feeds, py::handle contract_arg) {
  ensure_open();
  RunArguments arguments;
  const py::list no_outputs;
  arguments.outputs = no_outputs;
  arguments.contract = contract_arg;
  RunPipeline pipeline(*this, read_request(*this, arguments));
  pipeline.feed(feeds);
  const Call& call = pipeline.call();
  py::tuple arrays(signature_.input_names.size());
  for (size_t i = 0; i < arrays.size(); ++i) {
    PyArrayObject* array = call.input_arrays[i];
    arrays[i] = array != nullptr ? py::reinterpret_borrow<py::object>(reinterpret_cast<PyObject*>(array)) : py::none();
  }
  return arrays;
}

}  // namespace ortbind
