// Package grouprules holds the rules of group.GroupService's requests, which the
// validation interceptor checks before a handler runs (api/rules).
package grouprules

import (
	"errors"
	"fmt"
	"strings"

	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/parley-im/parley/api/gen/grouppb"
	"github.com/parley-im/parley/platform/identity"
	"github.com/parley-im/parley/platform/validate"
)

const (
	MaxNameLength         = 64
	MaxIntroductionLength = 1000
	MaxReasonLength       = 500
	MaxInviteCodeLength   = 64 // codes Parley makes are 22 characters
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
	if r.JoinPolicy != nil {
		if err := knownEnum("join_policy", r.GetJoinPolicy()); err != nil {
			return err
		}
	}
	return validateFields(r.GetName(), r.GetIntroduction(), r.GetAvatarUrl(), true)
}

// knownEnum refuses a number the enum does not name.
func knownEnum(field string, v protoreflect.Enum) error {
	if v.Descriptor().Values().ByNumber(v.Number()) == nil {
		return fmt.Errorf("%s: %d is not one of its values", field, v.Number())
	}
	return nil
}

// requireGroupAndUser checks the group and the user a call acts on.
func requireGroupAndUser(groupID, userID uint64) error {
	if groupID == 0 {
		return errors.New("group_id: is required")
	}
	if userID == 0 {
		return errors.New("user_id: is required")
	}
	return nil
}

func requireGroup(groupID uint64) error {
	if groupID == 0 {
		return errors.New("group_id: is required")
	}
	return nil
}

func checkCode(code string) error {
	if code == "" {
		return errors.New("code: is required")
	}
	return validate.Text("code", code, 1, MaxInviteCodeLength)
}

func checkSetGroupMemberRoleRequest(r *grouppb.SetGroupMemberRoleRequest) error {
	if err := requireGroupAndUser(r.GetGroupId(), r.GetUserId()); err != nil {
		return err
	}
	if err := knownEnum("role", r.GetRole()); err != nil {
		return err
	}
	if r.GetRole() == grouppb.GroupRole_GROUP_ROLE_OWNER {
		return errors.New("role: ownership moves with TransferGroupOwner")
	}
	return nil
}

func checkTransferGroupOwnerRequest(r *grouppb.TransferGroupOwnerRequest) error {
	return requireGroupAndUser(r.GetGroupId(), r.GetUserId())
}

func checkListJoinRequestsRequest(r *grouppb.ListJoinRequestsRequest) error {
	return requireGroup(r.GetGroupId())
}

func checkDecideJoinRequestRequest(r *grouppb.DecideJoinRequestRequest) error {
	if r.GetRequestId() == 0 {
		return errors.New("request_id: is required")
	}
	return nil
}

func checkCreateGroupInviteRequest(r *grouppb.CreateGroupInviteRequest) error {
	if err := requireGroup(r.GetGroupId()); err != nil {
		return err
	}
	if r.ExpiresAt != nil {
		if err := r.GetExpiresAt().CheckValid(); err != nil {
			return fmt.Errorf("expires_at: %w", err)
		}
	}
	return nil
}

func checkRevokeGroupInviteRequest(r *grouppb.RevokeGroupInviteRequest) error {
	return checkCode(r.GetCode())
}

func checkListGroupInvitesRequest(r *grouppb.ListGroupInvitesRequest) error {
	return requireGroup(r.GetGroupId())
}

func checkJoinGroupByInviteRequest(r *grouppb.JoinGroupByInviteRequest) error {
	return checkCode(r.GetCode())
}

func checkMuteGroupMemberRequest(r *grouppb.MuteGroupMemberRequest) error {
	if err := requireGroupAndUser(r.GetGroupId(), r.GetUserId()); err != nil {
		return err
	}
	if r.Until != nil {
		if err := r.GetUntil().CheckValid(); err != nil {
			return fmt.Errorf("until: %w", err)
		}
	}
	return nil
}

func checkBanGroupMemberRequest(r *grouppb.BanGroupMemberRequest) error {
	if err := requireGroupAndUser(r.GetGroupId(), r.GetUserId()); err != nil {
		return err
	}
	return validate.Text("reason", r.GetReason(), 0, MaxReasonLength)
}

func checkUnbanGroupMemberRequest(r *grouppb.UnbanGroupMemberRequest) error {
	return requireGroupAndUser(r.GetGroupId(), r.GetUserId())
}

func checkListGroupBansRequest(r *grouppb.ListGroupBansRequest) error {
	return requireGroup(r.GetGroupId())
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
	validate.For(checkSetGroupMemberRoleRequest),
	validate.For(checkTransferGroupOwnerRequest),
	validate.For(checkListJoinRequestsRequest),
	validate.For(checkDecideJoinRequestRequest),
	validate.For(checkCreateGroupInviteRequest),
	validate.For(checkRevokeGroupInviteRequest),
	validate.For(checkListGroupInvitesRequest),
	validate.For(checkJoinGroupByInviteRequest),
	validate.For(checkMuteGroupMemberRequest),
	validate.For(checkBanGroupMemberRequest),
	validate.For(checkUnbanGroupMemberRequest),
	validate.For(checkListGroupBansRequest),
}
