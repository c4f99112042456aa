// Command wirecontract is a protoc plugin (buf runs it from make generate)
// that writes api/wire-contract.txt: every message with its fields' names,
// numbers, types and JSON names, every enum value, and every method with its
// streaming and its REST route, each with its trailing comment. It is the
// golden listing of what clients see on the wire; make verify fails when it
// is stale, and a diff of it is the review of a contract change.
package main

import (
	"fmt"
	"strings"

	"google.golang.org/genproto/googleapis/api/annotations"
	"google.golang.org/protobuf/compiler/protogen"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

const header = `# The wire contract of Parley's API, generated from api/proto by
# api/wirecontract (make generate); make verify fails when it is stale.
# Every line is something a client relies on: keep the original's lines as
# they are and add new ones only with new numbers and names.
`

func main() {
	protogen.Options{}.Run(func(plugin *protogen.Plugin) error {
		var b strings.Builder
		b.WriteString(header)
		for _, f := range plugin.Files {
			if !f.Generate {
				continue
			}
			fmt.Fprintf(&b, "\nfile %s (package %s)\n", f.Desc.Path(), f.Desc.Package())
			for _, m := range f.Messages {
				writeMessage(&b, m)
			}
			for _, e := range f.Enums {
				writeEnum(&b, e)
			}
			for _, s := range f.Services {
				writeService(&b, s)
			}
		}
		out := plugin.NewGeneratedFile("wire-contract.txt", "")
		_, err := out.Write([]byte(b.String()))
		return err
	})
}

func writeMessage(b *strings.Builder, m *protogen.Message) {
	if m.Desc.IsMapEntry() {
		return
	}
	fmt.Fprintf(b, "\nmessage %s\n", m.Desc.FullName())
	for _, f := range m.Fields {
		line := fmt.Sprintf("  %s %s = %d (json %s)", fieldType(f.Desc), f.Desc.Name(), f.Desc.Number(), f.Desc.JSONName())
		if o := f.Desc.ContainingOneof(); o != nil && !o.IsSynthetic() {
			line += " oneof " + string(o.Name())
		}
		writeLine(b, line, f.Comments.Trailing)
	}
	ranges := m.Desc.ReservedRanges()
	for i := range ranges.Len() {
		r := ranges.Get(i)
		line := fmt.Sprintf("  reserved %d", r[0])
		if r[1]-1 != r[0] {
			line = fmt.Sprintf("  reserved %d to %d", r[0], r[1]-1)
		}
		writeLine(b, line, reservedComment(m, i))
	}
	names := m.Desc.ReservedNames()
	for i := range names.Len() {
		fmt.Fprintf(b, "  reserved %q\n", names.Get(i))
	}
	for _, nested := range m.Messages {
		writeMessage(b, nested)
	}
	for _, e := range m.Enums {
		writeEnum(b, e)
	}
}

// reservedComment is the trailing comment of a message's i-th reserved range.
func reservedComment(m *protogen.Message, i int) protogen.Comments {
	// In DescriptorProto, reserved_range is field 9: the comment is on the
	// `reserved` statement (path …, 9) more often than on one range (…, 9, i).
	locs := m.Desc.ParentFile().SourceLocations()
	path := append(protoreflect.SourcePath{}, m.Location.Path...)
	if loc := locs.ByPath(append(path, 9, int32(i))); loc.TrailingComments != "" {
		return protogen.Comments(loc.TrailingComments)
	}
	return protogen.Comments(locs.ByPath(append(path, 9)).TrailingComments)
}

func writeEnum(b *strings.Builder, e *protogen.Enum) {
	fmt.Fprintf(b, "\nenum %s\n", e.Desc.FullName())
	for _, v := range e.Values {
		writeLine(b, fmt.Sprintf("  %s = %d", v.Desc.Name(), v.Desc.Number()), v.Comments.Trailing)
	}
}

func writeService(b *strings.Builder, s *protogen.Service) {
	fmt.Fprintf(b, "\nservice %s\n", s.Desc.FullName())
	for _, m := range s.Methods {
		in, out := string(m.Input.Desc.FullName()), string(m.Output.Desc.FullName())
		if m.Desc.IsStreamingClient() {
			in = "stream " + in
		}
		if m.Desc.IsStreamingServer() {
			out = "stream " + out
		}
		line := fmt.Sprintf("  rpc %s(%s) returns (%s)", m.Desc.Name(), in, out)
		if route := httpRoute(m); route != "" {
			line += "  " + route
		}
		writeLine(b, line, m.Comments.Trailing)
	}
}

// httpRoute is a method's google.api.http binding, "POST /v1/... body *".
func httpRoute(m *protogen.Method) string {
	rule, ok := proto.GetExtension(m.Desc.Options(), annotations.E_Http).(*annotations.HttpRule)
	if !ok || rule == nil {
		return ""
	}
	var route string
	switch p := rule.GetPattern().(type) {
	case *annotations.HttpRule_Get:
		route = "GET " + p.Get
	case *annotations.HttpRule_Post:
		route = "POST " + p.Post
	case *annotations.HttpRule_Put:
		route = "PUT " + p.Put
	case *annotations.HttpRule_Delete:
		route = "DELETE " + p.Delete
	case *annotations.HttpRule_Patch:
		route = "PATCH " + p.Patch
	case *annotations.HttpRule_Custom:
		route = p.Custom.GetKind() + " " + p.Custom.GetPath()
	}
	if rule.GetBody() != "" {
		route += " body " + rule.GetBody()
	}
	return route
}

func fieldType(f protoreflect.FieldDescriptor) string {
	if f.IsMap() {
		return fmt.Sprintf("map<%s, %s>", kindName(f.MapKey()), kindName(f.MapValue()))
	}
	t := kindName(f)
	switch {
	case f.IsList():
		t = "repeated " + t
	case f.HasPresence() && f.ContainingOneof() != nil && f.ContainingOneof().IsSynthetic():
		t = "optional " + t
	}
	return t
}

func kindName(f protoreflect.FieldDescriptor) string {
	switch f.Kind() {
	case protoreflect.MessageKind, protoreflect.GroupKind:
		return string(f.Message().FullName())
	case protoreflect.EnumKind:
		return string(f.Enum().FullName())
	}
	return f.Kind().String()
}

func writeLine(b *strings.Builder, line string, comment protogen.Comments) {
	if c := strings.TrimSpace(string(comment)); c != "" {
		line += "  // " + strings.Join(strings.Fields(c), " ")
	}
	b.WriteString(line + "\n")
}
