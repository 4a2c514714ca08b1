-- wrk script of bench/http.py: each request POSTs a new follow-up visit as JSON, for the
-- patients in turn, with a client_uuid of its own (a repeated one would be answered from the
-- first create, not measured). Arguments after `--`: a file of pseudonyms, one a line; the API
-- token; 8 hex digits unique to the round, the first group of every client_uuid.
-- Prints one JSON line at the end: requests, 2xx and other answers, errors and percentiles.

local threads = {}

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

function init(args)
  patients = {}
  for line in io.lines(args[1]) do
    patients[#patients + 1] = line
  end
  round = args[3]
  sent, succeeded, failed, failure = 0, 0, 0, ""
  wrk.method = "POST"
  wrk.headers["Authorization"] = "Token " .. args[2]
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["Accept"] = "application/json"
  -- As the TLS-terminating proxy does; production settings redirect plain HTTP otherwise.
  wrk.headers["X-Forwarded-Proto"] = "https"
end

function request()
  sent = sent + 1
  -- Threads start far apart in the list, so that no two write to one patient at once.
  local patient = patients[(sent + id * 997) % #patients + 1]
  local key = string.format("%s-%04x-4000-8000-%012x", round, id, sent)
  local body = string.format(
    '{"patient": "%s", "form": "follow_up", "status": "complete", "client_uuid": "%s", '
    .. '"data": {"fu_age_months": %d, "fu_status": "alive", "fu_mm_status": "improved", '
    .. '"fu_wt_grade_left_task": "1", "fu_wt_grade_right_task": "2", '
    .. '"symptoms_before": ["vertigo"], "vertigo_resolved": "1", '
    .. '"bladder_continence": "1", "bowel_continence": "1", "fine_motor": "normal", '
    .. '"fu_impact": "mild"}}',
    patient, key, 60 + sent % 600)
  return wrk.format(nil, nil, nil, body)
end

function response(status, headers, body)
  if status >= 200 and status < 300 then
    succeeded = succeeded + 1
  else
    failed = failed + 1
    if failure == "" then
      failure = status .. " " .. string.sub(body, 1, 300)
    end
  end
end

local function quoted(text)
  return '"' .. string.gsub(text, '[%c"\\]', function(c)
    return string.format("\\u%04x", string.byte(c))
  end) .. '"'
end

function done(summary, latency, requests)
  local succeeded_all, failed_all, failure_first = 0, 0, ""
  for _, thread in ipairs(threads) do
    succeeded_all = succeeded_all + thread:get("succeeded")
    failed_all = failed_all + thread:get("failed")
    if failure_first == "" then
      failure_first = thread:get("failure")
    end
  end
  local errors = summary.errors
  io.write(string.format(
    '{"requests": %d, "seconds": %.6f, "succeeded": %d, "failed": %d, "failure": %s, '
    .. '"socket_errors": %d, "p50_ms": %.3f, "p95_ms": %.3f, "p99_ms": %.3f}\n',
    summary.requests, summary.duration / 1e6, succeeded_all, failed_all, quoted(failure_first),
    errors.connect + errors.read + errors.write + errors.timeout,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000,
    latency:percentile(99) / 1000))
end
