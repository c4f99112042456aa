package validate

import (
	"errors"
	"fmt"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// Rule checks the requests of one type; its error names the field that is
// wrong ("nickname: must be 1–32 characters").
type Rule struct {
	Type  protoreflect.FullName
	Check func(proto.Message) error
}

// For is the rule check makes for requests of type T.
func For[T proto.Message](check func(T) error) Rule {
	var zero T
	return Rule{Type: zero.ProtoReflect().Descriptor().FullName(), Check: func(m proto.Message) error {
		typed, ok := m.(T)
		if !ok { // a dynamic message of the type: no rule runs on it
			return fmt.Errorf("%T: %w", m, ErrNoRules)
		}
		return check(typed)
	}}
}

// ErrNoRules is a request of a type that has no rule: a bug, not bad input.
var ErrNoRules = errors.New("no validation rules for this request type")

// Rules finds requests' rules by their type.
type Rules map[protoreflect.FullName]func(proto.Message) error

// Index is the rules of lists by type; a type given twice panics.
func Index(lists ...[]Rule) Rules {
	rules := Rules{}
	for _, list := range lists {
		for _, r := range list {
			if _, dup := rules[r.Type]; dup {
				panic(fmt.Sprintf("validate: two rules for %s", r.Type))
			}
			rules[r.Type] = r.Check
		}
	}
	return rules
}

// Check checks req by its type's rule; a type without one is ErrNoRules.
func (rs Rules) Check(req proto.Message) error {
	check, ok := rs[req.ProtoReflect().Descriptor().FullName()]
	if !ok {
		return fmt.Errorf("%s: %w", req.ProtoReflect().Descriptor().FullName(), ErrNoRules)
	}
	return check(req)
}

// None is the rule of a request type with nothing to check: said, not
// assumed, so a type without a rule stays an error.
func None[T proto.Message]() Rule { return For(func(T) error { return nil }) }
