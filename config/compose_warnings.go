package config

import (
	"io"
	"slices"
	"sync"

	"github.com/sirupsen/logrus"
)

// composeLogMu serialises loads, because compose-go v2.16.2 logs its
// warnings (such as "The \"X\" variable is not set. Defaulting to a blank
// string.") through logrus's global standard logger, which
// captureComposeWarnings reconfigures for the duration of a load.
var composeLogMu sync.Mutex

// warningCollector is a logrus hook that records the messages of warnings
// and more severe entries.
type warningCollector struct {
	messages []string
}

func (c *warningCollector) Levels() []logrus.Level {
	return []logrus.Level{logrus.PanicLevel, logrus.FatalLevel, logrus.ErrorLevel, logrus.WarnLevel}
}

func (c *warningCollector) Fire(entry *logrus.Entry) error {
	if !slices.Contains(c.messages, entry.Message) {
		c.messages = append(c.messages, entry.Message)
	}
	return nil
}

// captureComposeWarnings runs load with the standard logrus logger writing
// nowhere and returns the warnings logged meanwhile, without repeats. The
// logger's output, hooks and level are restored afterwards.
func captureComposeWarnings(load func()) []string {
	composeLogMu.Lock()
	defer composeLogMu.Unlock()

	logger := logrus.StandardLogger()
	collector := &warningCollector{}
	hooks := logrus.LevelHooks{}
	hooks.Add(collector)

	oldHooks := logger.ReplaceHooks(hooks)
	oldOutput := logger.Out
	oldLevel := logger.GetLevel()
	logger.SetOutput(io.Discard)
	if oldLevel < logrus.WarnLevel {
		logger.SetLevel(logrus.WarnLevel)
	}
	defer func() {
		logger.SetLevel(oldLevel)
		logger.SetOutput(oldOutput)
		logger.ReplaceHooks(oldHooks)
	}()

	load()
	return collector.messages
}
