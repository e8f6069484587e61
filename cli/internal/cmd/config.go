package cmd

import (
	"log/slog"

	"github.com/fedtoken/fedtoken/core/config"

	"github.com/fedtoken/fedtoken/cli/internal/exitcode"
)

// ConfigPath returns the configuration file this run reads (see
// config.Find in core for the lookup order).
func (e *Env) ConfigPath() (string, error) {
	p, err := config.Find(e.Flags.Config, config.SearchEnv{Getenv: e.Getenv})
	return p, exitcode.New(exitcode.Config, err)
}

// LoadConfig finds and parses the configuration file and logs its
// warnings. Its errors exit with status 3.
func (e *Env) LoadConfig() (*config.File, error) {
	path, err := e.ConfigPath()
	if err != nil {
		return nil, err
	}
	f, err := config.Load(path)
	if err != nil {
		return nil, exitcode.New(exitcode.Config, err)
	}
	for _, w := range f.Warnings {
		e.Logger.Warn("config: "+w, "file", path)
	}
	if f.LogLevel != "" && e.Flags.Verbose == 0 {
		// opencode.json's pluginConfig.oauth2ModelSync.logLevel; -v wins.
		var l slog.Level
		if err := l.UnmarshalText([]byte(f.LogLevel)); err == nil {
			e.Level.Set(l)
		}
	}
	e.Logger.Debug("config loaded", "file", path, "format", f.Format, "providers", len(f.Providers))
	return f, nil
}

// LoadProvider loads the configuration and selects a provider: id, or
// the only one when id is "".
func (e *Env) LoadProvider(id string) (*config.File, *config.Provider, error) {
	f, err := e.LoadConfig()
	if err != nil {
		return nil, nil, err
	}
	p, err := f.Provider(id)
	if err != nil {
		return nil, nil, exitcode.New(exitcode.Config, err)
	}
	return f, p, nil
}
