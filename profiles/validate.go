package profiles

// validate checks the settings blocks and config names; the top-level,
// server, workload and load keys are checked while their defaults are
// filled in (defaults.go, phases.go).
func (p *Profile) validate() {
	pr := p.prob
	checkSettings(pr, func(k string) string { return joinPath("base", k) }, p.Base)
	for i, c := range p.Configs {
		path := indexPath("configs", i)
		if c.Name == "" {
			pr.errorf(joinPath(path, "name"), "required: every config needs a name (it names the config's results directory)")
		} else if err := checkName(c.Name); err != nil {
			pr.errorf(joinPath(path, "name"), "%v (it names the config's results directory)", err)
		}
		checkSettings(pr, func(k string) string { return joinPath(path, k) }, c.Settings)
	}
	if p.Matrix != nil {
		for _, ax := range p.Matrix.Axes {
			for i, s := range ax.settings {
				at := indexPath(joinPath("matrix", ax.Key), i)
				checkSettings(pr, func(k string) string {
					if k == ax.Key {
						return at
					}
					return joinPath(at, k) // never written: no value to check
				}, s)
			}
		}
	}
}
