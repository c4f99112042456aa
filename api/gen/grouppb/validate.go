package grouppb

// Request validators, called by the validation interceptor before a handler
// runs. Hand-written; buf generates the rest of this package.

import (
	"errors"
	"strings"

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
	if !(optional && strings.TrimSpace(name) == "") {
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

func (r *CreateGroupRequest) Validate() error {
	return validateFields(r.GetName(), r.GetIntroduction(), r.GetAvatarUrl(), false)
}

func (r *UpdateGroupRequest) Validate() error {
	if err := requireID(r.GetId()); err != nil {
		return err
	}
	return validateFields(r.GetName(), r.GetIntroduction(), r.GetAvatarUrl(), true)
}

func (r *GetGroupRequest) Validate() error    { return requireID(r.GetId()) }
func (r *DeleteGroupRequest) Validate() error { return requireID(r.GetId()) }
func (r *JoinGroupRequest) Validate() error   { return requireID(r.GetId()) }
func (r *QuitGroupRequest) Validate() error   { return requireID(r.GetId()) }

func (r *GetGroupUserRequest) Validate() error { return requireID(r.GetId()) }

func (r *QueryGroupRequest) Validate() error {
	return validate.Text("keyword", strings.TrimSpace(r.GetKeyword()), 0, MaxNameLength)
}
