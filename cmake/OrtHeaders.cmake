# ortbind_find_ort_headers(<out-var>): sets <out-var> to a folder holding onnxruntime_cxx_api.h.
function(ortbind_find_ort_headers out_var)
  set(root "${ONNXRUNTIME_ROOT}")
  if(NOT root AND DEFINED ENV{ONNXRUNTIME_ROOT})
    set(root "$ENV{ONNXRUNTIME_ROOT}")
  endif()

  set(candidates)
  if(root)
    # An official release archive has include/; a distribution layout has include/onnxruntime/.
    list(APPEND candidates "${root}/include" "${root}/include/onnxruntime")
  endif()
  list(APPEND candidates "/usr/include/onnxruntime")

  foreach(dir IN LISTS candidates)
    if(EXISTS "${dir}/onnxruntime_cxx_api.h")
      message(STATUS "ortbind: ONNX Runtime headers from ${dir}")
      set(${out_var} "${dir}" PARENT_SCOPE)
      return()
    endif()
  endforeach()
  if(root)
    message(FATAL_ERROR "ONNXRUNTIME_ROOT=${root} holds no include/onnxruntime_cxx_api.h")
  endif()

  set(cache "${CMAKE_BINARY_DIR}/onnxruntime-headers")
  if(NOT EXISTS "${cache}/include/onnxruntime_cxx_api.h")
    execute_process(
      COMMAND bash "${CMAKE_CURRENT_FUNCTION_LIST_DIR}/fetch-ort-headers.sh" "${cache}"
      RESULT_VARIABLE rc)
    if(NOT rc EQUAL 0)
      message(FATAL_ERROR "Could not fetch ONNX Runtime headers (see above). Set ONNXRUNTIME_ROOT to an "
                          "ONNX Runtime release, or install Debian's libonnxruntime-dev.")
    endif()
  endif()
  message(STATUS "ortbind: ONNX Runtime headers from ${cache}/include (Debian libonnxruntime-dev)")
  set(${out_var} "${cache}/include" PARENT_SCOPE)
endfunction()
