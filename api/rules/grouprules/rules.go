// Package grouprules holds the rules of group.GroupService's requests, which the
// validation interceptor checks before a handler runs (api/rules).
package grouprules

import (
	"errors"
	"strings"

	"github.com/parley-im/parley/api/gen/grouppb"
	"github.com/parley-im/parley/platform/identity"
	"github.com/parley-im/parley/platform/validate"
)

const (
	MaxNameLength         = 64
	MaxIntroductionLength = 1000
)

// validateFields checks the group's editable fields; with optional set, an
// empty name is allowed (UpdateGroup keeps the stored one).
func validateFields(name, introduction, avatarURL string, optional bool) error {
	if !optional || strings.TrimSpace(name) != "" {
		if _, err := identity.Name("name", name, MaxNameLength); err != nil {
			return err
		}
	}
	if err := validate.Text("introduction", introduction, 0, MaxIntroductionLength); err != nil {
		return err
	}
	return validate.OptionalHTTPURL("avatar_url", avatarURL)
}

func requireID(id uint64) error {
	if id == 0 {
		return errors.New("id: is required")
	}
	return nil
}

func checkCreateGroupRequest(r *grouppb.CreateGroupRequest) error {
	return validateFields(r.GetName(), r.GetIntroduction(), r.GetAvatarUrl(), false)
}

func checkUpdateGroupRequest(r *grouppb.UpdateGroupRequest) error {
	if err := requireID(r.GetId()); err != nil {
		return err
	}
	return validateFields(r.GetName(), r.GetIntroduction(), r.GetAvatarUrl(), true)
}

func checkGetGroupRequest(r *grouppb.GetGroupRequest) error       { return requireID(r.GetId()) }
func checkDeleteGroupRequest(r *grouppb.DeleteGroupRequest) error { return requireID(r.GetId()) }
func checkJoinGroupRequest(r *grouppb.JoinGroupRequest) error     { return requireID(r.GetId()) }
func checkQuitGroupRequest(r *grouppb.QuitGroupRequest) error     { return requireID(r.GetId()) }

func checkGetGroupUserRequest(r *grouppb.GetGroupUserRequest) error { return requireID(r.GetId()) }

func checkQueryGroupRequest(r *grouppb.QueryGroupRequest) error {
	return validate.Text("keyword", strings.TrimSpace(r.GetKeyword()), 0, MaxNameLength)
}

// Rules are the package's request rules, one per request type.
var Rules = []validate.Rule{
	validate.For(checkCreateGroupRequest),
	validate.For(checkUpdateGroupRequest),
	validate.For(checkGetGroupRequest),
	validate.For(checkDeleteGroupRequest),
	validate.For(checkJoinGroupRequest),
	validate.For(checkQuitGroupRequest),
	validate.For(checkGetGroupUserRequest),
	validate.For(checkQueryGroupRequest),
}
