package loadgen

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"

	"loadgen/loadgen/schema"
	"loadgen/profiles"
)

// SimOptions tune the simulator that --simulate launches in place of
// `vllm serve`. It is launched through exactly the same code path (argv,
// environment, readiness, log watch, stop); only the command differs.
type SimOptions struct {
	// Speed divides all simulated time (1 = the calibrated, real-time
	// latency model). Results measured with Speed ≠ 1 are scaled too.
	Speed float64
	// StartupSpeed further divides the simulated startup (model load and
	// Neuron compile) only, so a demo does not wait for a 10-minute compile
	// while requests keep their calibrated latency.
	StartupSpeed float64
	// Seed seeds the simulator's jitter.
	Seed int64
	// Executable is the loadgen binary that serves `sim serve` (default:
	// this process's executable).
	Executable string
	// Stack is the simulated vllm-neuron stack (package neuron): its
	// versions, log lines and rules. "" means the profile's server.stack,
	// else neuron.DefaultName.
	Stack string
	// ArtifactsRoot is where the simulator keeps its compiled-artifacts
	// markers (default: the user cache directory), so that a second sweep
	// shows cache hits as a real host would.
	ArtifactsRoot string
}

// Defaults of SimOptions.
const (
	DefaultSimSpeed        = 1
	DefaultSimStartupSpeed = 60
)

func (o SimOptions) withDefaults() SimOptions {
	if o.Speed == 0 {
		o.Speed = DefaultSimSpeed
	}
	if o.StartupSpeed == 0 {
		o.StartupSpeed = DefaultSimStartupSpeed
	}
	return o
}

// info is what the manifest records about the simulator.
func (o SimOptions) info() *schema.SimInfo {
	o = o.withDefaults()
	return &schema.SimInfo{
		SpeedFactor: o.Speed,
		Seed:        o.Seed,
		Notes:       fmt.Sprintf("simulated vllm-neuron (loadgen sim serve), latency model calibrated to the offline inf2.xlarge table; startup sped up %g×", o.StartupSpeed),
	}
}

// simExpandOptions points the plan at the simulator: its command, a
// loopback host, a free port unless one is given, and its own artifacts
// root (never the real Neuron cache).
func simExpandOptions(o SimOptions, port int) (profiles.ExpandOptions, error) {
	exe := o.Executable
	if exe == "" {
		var err error
		if exe, err = os.Executable(); err != nil {
			return profiles.ExpandOptions{}, fmt.Errorf("--simulate: cannot find loadgen's own executable to run the simulator: %w", err)
		}
	}
	root := o.ArtifactsRoot
	if root == "" {
		cache, err := os.UserCacheDir()
		if err != nil {
			cache = os.TempDir()
		}
		root = filepath.Join(cache, "loadgen", "sim-artifacts")
	}
	if port == 0 {
		var err error
		if port, err = FreePort(); err != nil {
			return profiles.ExpandOptions{}, fmt.Errorf("--simulate: %w", err)
		}
	}
	return profiles.ExpandOptions{
		Command:       []string{exe, "sim", "serve"},
		ArtifactsRoot: root,
		Port:          port,
		Host:          "127.0.0.1",
	}, nil
}

// simulateConfig passes the simulator's own settings through its
// environment, so its argv stays exactly the vllm serve argv; o.Stack is
// the resolved stack.
func simulateConfig(c *profiles.Config, o SimOptions) {
	o = o.withDefaults()
	c.Server.Env = append(c.Server.Env,
		"LOADGEN_SIM_SPEED="+strconv.FormatFloat(o.Speed, 'g', -1, 64),
		"LOADGEN_SIM_STARTUP_SPEED="+strconv.FormatFloat(o.StartupSpeed, 'g', -1, 64),
		"LOADGEN_SIM_SEED="+strconv.FormatInt(o.Seed, 10),
		"LOADGEN_SIM_STACK="+o.Stack,
	)
}

// FreePort asks the kernel for a free loopback port.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("finding a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
