package kafkaclient

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/segmentio/kafka-go/sasl"

	"github.com/trackwatch/trackwatch/secret"
)

// rotatingSASL is a SASL mechanism whose credentials can be replaced while the readers
// and writers built with it run: every new broker connection authenticates with the
// credentials in place when it connects. Connections already authenticated stay as
// they are (brokers do not ask again), as after any password change on the broker.
type rotatingSASL struct {
	cur atomic.Pointer[saslCredentials]
}

// saslCredentials are the credentials in use and the mechanism built from them.
type saslCredentials struct {
	username string
	password secret.String
	sasl.Mechanism
}

func (r *rotatingSASL) Name() string { return r.cur.Load().Name() }

func (r *rotatingSASL) Start(ctx context.Context) (sasl.StateMachine, []byte, error) {
	return r.cur.Load().Start(ctx)
}

// EnableCredentialReload makes the dialers and transports built from c (and from its
// copies made after this call) take their SASL credentials from one place that
// PrepareCredentials's commit changes. Without SASL configured it does nothing.
func (c *Config) EnableCredentialReload() error {
	if c.SASL.Mechanism == "" || c.rotating != nil {
		return nil
	}
	m, err := c.staticMechanism()
	if err != nil {
		return err
	}
	r := &rotatingSASL{}
	r.cur.Store(&saslCredentials{c.SASL.Username, c.SASL.Password, m})
	c.rotating = r
	return nil
}

// PrepareCredentials checks next's SASL username and password against brokers (a new
// connection authenticated with them) and returns the function that makes every later
// connection of c's readers and writers use them (nil when they are those in use).
// Turning SASL on or off, or changing the mechanism, needs a restart and is refused;
// errors never carry the password.
func (c *Config) PrepareCredentials(ctx context.Context, next Config, brokers []string) (func(), error) {
	if next.SASL.Mechanism != c.SASL.Mechanism {
		return nil, fmt.Errorf("kafka.sasl.mechanism changed from %q to %q: that takes a restart", c.SASL.Mechanism, next.SASL.Mechanism)
	}
	if c.rotating == nil {
		if c.SASL.Mechanism != "" {
			return nil, errors.New("kafka: credentials cannot be replaced in this process")
		}
		return nil, nil
	}
	if in := c.rotating.cur.Load(); next.SASL.Username == in.username && next.SASL.Password == in.password {
		return nil, nil
	}
	check := *c
	check.rotating = nil
	check.SASL.Username, check.SASL.Password = next.SASL.Username, next.SASL.Password
	m, err := check.staticMechanism()
	if err != nil {
		return nil, err
	}
	if err := check.Ping(ctx, brokers); err != nil {
		return nil, fmt.Errorf("kafka: the new credentials (user %q) were not accepted: %w", check.SASL.Username, err)
	}
	return func() { c.rotating.cur.Store(&saslCredentials{check.SASL.Username, check.SASL.Password, m}) }, nil
}
