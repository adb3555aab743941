package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
)

// errNoNeuronLS is returned when neuron-ls is not on PATH.
var errNoNeuronLS = errors.New("neuron-ls is not in PATH (the Neuron tools are in /opt/aws/neuron/bin on a DLAMI)")

// Device is one Neuron device as `neuron-ls --json-output` reports it.
type Device struct {
	// Index is the device number.
	Index int
	// Cores are its NeuronCore ids (NEURON_RT_VISIBLE_CORES numbering).
	Cores []int
	// Processes hold the device (the runtime's processes).
	Processes []DeviceProcess
}

// DeviceProcess is a process that holds a Neuron device.
type DeviceProcess struct {
	PID     int
	Command string
}

// ProbeDevices runs `neuron-ls --json-output` and returns the devices, the
// cores of each and which processes hold them.
func ProbeDevices(ctx context.Context) ([]Device, error) {
	path, err := exec.LookPath("neuron-ls")
	if err != nil {
		return nil, errNoNeuronLS
	}
	out, err := runProbe(ctx, path, "--json-output")
	if err != nil {
		return nil, fmt.Errorf("neuron-ls --json-output: %w", err)
	}
	return parseNeuronLS(out)
}

// parseNeuronLS reads neuron-ls's JSON: an array of devices with
// "neuron_device", "nc_count", "neuroncore_ids" (newer tools) and
// "neuron_processes" [{"pid", "command"}]. The field names are those the
// tool's JSON consumers read (e.g. ray-project/ray's Neuron accelerator
// code for neuron_device and nc_count); the process entries' shape is not
// documented by AWS, so both fields are optional. Without neuroncore_ids
// the cores are numbered in device order.
func parseNeuronLS(b []byte) ([]Device, error) {
	var raw []struct {
		Device    int   `json:"neuron_device"`
		NCCount   int   `json:"nc_count"`
		CoreIDs   []int `json:"neuroncore_ids"`
		Processes []struct {
			PID     int    `json:"pid"`
			Command string `json:"command"`
		} `json:"neuron_processes"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return nil, fmt.Errorf("neuron-ls --json-output: %w", err)
	}
	var out []Device
	next := 0
	for _, r := range raw {
		d := Device{Index: r.Device, Cores: r.CoreIDs}
		if len(d.Cores) == 0 {
			for i := range r.NCCount {
				d.Cores = append(d.Cores, next+i)
			}
		}
		next += max(r.NCCount, len(d.Cores))
		for _, p := range r.Processes {
			d.Processes = append(d.Processes, DeviceProcess{PID: p.PID, Command: p.Command})
		}
		out = append(out, d)
	}
	return out, nil
}
