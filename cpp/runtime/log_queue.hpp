// ONNX Runtime's log, on its way to Python's logging. The runtime calls its logging function from
// any thread, its own pool threads included, which may never take the GIL (one could be parked in
// the middle of interpreter exit, or block a thread that holds it). So the function only queues
// the record; a Python thread of ortbind's (ortbind._logging) takes the records and hands them to
// the logger "ortbind.onnxruntime" with the GIL held as usual.
#pragma once
#include "common.hpp"

#include <string>
#include <vector>

namespace ortbind {

struct LogRecord {
  OrtLoggingLevel severity;
  std::string category, log_id, location, message;
};

// The OrtLoggingFunction every environment of ortbind's is made with. Never blocks on anything but
// the queue's own short lock; a full queue drops the record and counts it.
void ORT_API_CALL queue_log_record(void* param, OrtLoggingLevel severity, const char* category, const char* log_id,
                                   const char* code_location, const char* message);

// Waits up to `timeout_s` seconds for a record to be queued (call without the GIL); whether one is.
bool wait_for_log_records(double timeout_s);
// The queued records, oldest first.
std::vector<LogRecord> take_log_records();
// How many records were dropped because the queue was full (a reader that stopped reading).
uint64_t dropped_log_records();
// Wakes every waiting reader for good: at interpreter exit.
void close_log_queue();
bool log_queue_closed();

}  // namespace ortbind
