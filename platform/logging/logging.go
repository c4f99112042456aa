// Package logging builds Parley's zerolog logger and adapts it to the
// go-grpc-middleware logging interceptor.
package logging

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/logging"
	"github.com/rs/zerolog"
)

// New returns a logger writing to w at level ("debug", "info", ...) in
// format "json" or "console".
func New(w io.Writer, level, format string) (zerolog.Logger, error) {
	lvl, err := zerolog.ParseLevel(level)
	if err != nil || level == "" {
		return zerolog.Nop(), fmt.Errorf("log level %q: want debug, info, warn or error", level)
	}
	switch format {
	case "json":
	case "console":
		w = zerolog.ConsoleWriter{Out: w, TimeFormat: time.RFC3339}
	default:
		return zerolog.Nop(), fmt.Errorf("log format %q: want json or console", format)
	}
	return zerolog.New(w).Level(lvl).With().Timestamp().Logger(), nil
}

// GRPCLogger adapts l to the go-grpc-middleware logging interceptor.
func GRPCLogger(l zerolog.Logger) logging.Logger {
	return logging.LoggerFunc(func(_ context.Context, lvl logging.Level, msg string, fields ...any) {
		var ev *zerolog.Event
		switch {
		case lvl >= logging.LevelError:
			ev = l.Error()
		case lvl >= logging.LevelWarn:
			ev = l.Warn()
		case lvl >= logging.LevelInfo:
			ev = l.Info()
		default:
			ev = l.Debug()
		}
		ev.Fields(fields).Msg(msg)
	})
}
