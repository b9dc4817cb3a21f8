package smokeenv

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

func valid() map[string]string {
	return map[string]string{
		EnvNATSURL:       "nats://127.0.0.1:4222",
		EnvSimURL:        "http://127.0.0.1:8775/",
		EnvSimToken:      "secret",
		EnvConnectorURLs: "http://127.0.0.1:8080, http://127.0.0.1:8081",
		EnvOperators:     "mno-a,mno-b",
	}
}

func parse(env map[string]string) (Config, error) {
	return Parse(func(k string) string { return env[k] })
}

func TestParseValid(t *testing.T) {
	env := valid()
	env[EnvOperators] = "mno-a,mno-b=demo"
	env[EnvReceiptParts] = "mno-b=last"
	env[EnvTimeout] = "90s"
	c, err := parse(env)
	if err != nil {
		t.Fatal(err)
	}
	want := Config{
		NATSURL: "nats://127.0.0.1:4222", SimURL: "http://127.0.0.1:8775", SimToken: "secret",
		ConnectorURLs: []string{"http://127.0.0.1:8080", "http://127.0.0.1:8081"},
		Operators: []Operator{{ID: "mno-a", SimOperator: "mno-a", ReceiptParts: ReceiptsEach},
			{ID: "mno-b", SimOperator: "demo", ReceiptParts: ReceiptsLast}},
		Timeout: 90 * time.Second,
	}
	if !reflect.DeepEqual(c, want) {
		t.Fatalf("got %+v\nwant %+v", c, want)
	}
	if c, _ := parse(valid()); c.Timeout != DefaultTimeout {
		t.Errorf("default timeout %s, want %s", c.Timeout, DefaultTimeout)
	}
}

// Every required variable, when missing, is named; all of them at once.
func TestParseNamesEveryMissingVariable(t *testing.T) {
	_, err := parse(map[string]string{})
	if err == nil {
		t.Fatal("no error with an empty environment")
	}
	for _, name := range []string{EnvNATSURL, EnvSimURL, EnvSimToken, EnvConnectorURLs, EnvOperators} {
		if !strings.Contains(err.Error(), name+": not set") {
			t.Errorf("error %q does not name %s", err, name)
		}
		env := valid()
		delete(env, name)
		if _, err := parse(env); err == nil || !strings.Contains(err.Error(), name+": not set") {
			t.Errorf("without %s: got %v", name, err)
		}
	}
}

func TestParseNamesWrongVariables(t *testing.T) {
	for _, tc := range []struct{ name, value, want string }{
		{EnvNATSURL, "http://127.0.0.1:4222", "want a nats or tls URL"},
		{EnvNATSURL, "nats://u:hunter2@", `"nats://u:xxxxx@" has no host`},
		{EnvNATSCreds, "/nonexistent/smoke.creds", "no such file"},
		{EnvSimURL, "127.0.0.1:8775", "want a http or https URL"},
		{EnvConnectorURLs, "http://127.0.0.1:8080,,http://127.0.0.1:8081", "has an empty entry"},
		{EnvConnectorURLs, "http://127.0.0.1:8080,127.0.0.1:8081", "want a http or https URL"},
		{EnvOperators, "mno-a,mno a", `"mno a": want id or id=simulatorOperator`},
		{EnvOperators, "mno-a,mno-a", `operator "mno-a" listed twice`},
		{EnvReceiptParts, "mno-a=some", `"mno-a=some": want id=each`},
		{EnvReceiptParts, "mno-x=last", `operator "mno-x" is not in ` + EnvOperators},
		{EnvTimeout, "3", "want a positive Go duration"},
		{EnvTimeout, "-1m", "want a positive Go duration"},
	} {
		env := valid()
		env[tc.name] = tc.value
		_, err := parse(env)
		if err == nil || !strings.Contains(err.Error(), tc.name+": ") || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s=%q: got %v, want an error naming it with %q", tc.name, tc.value, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), "hunter2") {
			t.Errorf("%s=%q: the error shows the password: %v", tc.name, tc.value, err)
		}
	}
}
