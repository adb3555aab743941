package schema

// Arrival processes accepted in the arrival of a phase.
const (
	// ArrivalPoisson spaces arrivals by exponential gaps of mean 1/rate.
	ArrivalPoisson = "poisson"
	// ArrivalGamma spaces arrivals by gamma gaps of shape Burstiness and
	// scale 1/(rate·Burstiness), as `vllm bench serve --burstiness` does.
	ArrivalGamma = "gamma"
	// ArrivalConstant spaces arrivals by exactly 1/rate.
	ArrivalConstant = "constant"
	// ArrivalSync sends one query at a time: the next one leaves when the
	// previous query's last request has ended (the offline benchmark's loop).
	ArrivalSync = "sync"
	// ArrivalInf makes every arrival due at once; MaxConcurrency bounds it.
	ArrivalInf = "inf"
)

// End reasons written to PhaseResult.EndReason.
const (
	EndCompleted    = "completed"
	EndDuration     = "duration"
	EndInterrupted  = "interrupted"
	EndServerExited = "server_exited"
	EndError        = "error"
	// EndSaturated: an open-loop phase was stopped early because it was
	// clearly past capacity (PhaseResult.Saturation holds the evidence).
	EndSaturated = "saturated"
)

// Ramp strategies accepted in Ramp.Strategy.
const (
	RampLinear      = "linear"
	RampExponential = "exponential"
)
