package delivery

import "time"

// SetBatchTimeForTest shortens how long q's batches may take before what
// they have not sent is given back.
func SetBatchTimeForTest(q *MailQueue, d time.Duration) { q.batchTime = d }

// CPUTime is the CPU time the process has used so far (cpuTime).
var CPUTime = cpuTime
