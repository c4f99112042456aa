// Package userrules holds the rules of user.UserService's requests, which the
// validation interceptor checks before a handler runs (api/rules).
package userrules

import (
	"errors"
	"fmt"
	"strings"

	"github.com/trustelem/zxcvbn"

	"github.com/parley-im/parley/api/gen/commonpb"
	"github.com/parley-im/parley/api/gen/userpb"
	"github.com/parley-im/parley/platform/identity"
	"github.com/parley-im/parley/platform/validate"
)

const (
	MaxNicknameLength = 32
	MinPasswordLength = 8
	MaxPasswordLength = 128
)

// validateLoginNickname checks a nickname given at login by the rule of
// before identity.Name, so every nickname ever accepted can still sign in.
func validateLoginNickname(nickname string) error {
	n := strings.TrimSpace(nickname)
	if err := validate.Length("nickname", n, 1, MaxNicknameLength); err != nil {
		return err
	}
	return validate.PlainText("nickname", n)
}

// strengthRunes is how much of a password zxcvbn scores: its cost grows
// fast with the length, and the commonest passwords are short.
const strengthRunes = 32

// CheckPasswordStrength refuses a password zxcvbn guesses within a thousand
// tries; knownWords (the nickname) count as known to a guesser.
func CheckPasswordStrength(password string, knownWords ...string) error {
	if runes := []rune(password); len(runes) > strengthRunes {
		password = string(runes[:strengthRunes])
	}
	if zxcvbn.PasswordStrength(password, knownWords).Score == 0 {
		return errors.New("password: too common, easy to guess: choose a longer or less usual one")
	}
	return nil
}

// validateNewPassword checks a password being set (existing ones keep
// working): the length, and that it is not among the commonest ones
// (zxcvbn's estimate: guessed within a thousand tries, like "password",
// "12345678" or a row of the keyboard; the nickname counts as known).
func validateNewPassword(password, repeat string, knownWords ...string) error {
	if err := validate.Length("password", password, MinPasswordLength, MaxPasswordLength); err != nil {
		return err
	}
	if strings.TrimSpace(password) == "" {
		return errors.New("password: must not be only spaces")
	}
	if err := CheckPasswordStrength(password, knownWords...); err != nil {
		return err
	}
	if password != repeat {
		return errors.New("password_rpt: must equal password")
	}
	return nil
}

func checkUserCreateRequest(r *userpb.UserCreateRequest) error {
	if _, err := identity.Name("nickname", r.GetNickname(), MaxNicknameLength); err != nil {
		return err
	}
	if _, ok := commonpb.Gender_name[int32(r.GetGender())]; !ok {
		return errors.New("gender: must be Unknown, Male or Female")
	}
	if err := validate.OptionalHTTPURL("avatar_url", r.GetAvatarUrl()); err != nil {
		return err
	}
	return validateNewPassword(r.GetPassword(), r.GetPasswordRpt(), r.GetNickname())
}

func checkUserLoginRequest(r *userpb.UserLoginRequest) error {
	if err := validateLoginNickname(r.GetNickname()); err != nil {
		return err
	}
	return validate.Length("password", r.GetPassword(), 1, MaxPasswordLength)
}

func checkUserGetRequest(r *userpb.UserGetRequest) error {
	if r.GetId() == 0 {
		return errors.New("id: is required")
	}
	return nil
}

func checkUserQueryRequest(r *userpb.UserQueryRequest) error {
	return validate.Text("keyword", strings.TrimSpace(r.GetKeyword()), 0, MaxNicknameLength)
}

func checkUpdatePasswordRequest(r *userpb.UpdatePasswordRequest) error {
	return validateNewPassword(r.GetPassword(), r.GetPasswordRpt())
}

func checkUpdateAvatarRequest(r *userpb.UpdateAvatarRequest) error {
	return validate.OptionalHTTPURL("url", r.GetUrl())
}

func requireUserID(id uint64) error {
	if id == 0 {
		return errors.New("user_id: is required")
	}
	return nil
}

func checkFollowUserRequest(r *userpb.FollowUserRequest) error { return requireUserID(r.GetUserId()) }
func checkUnfollowUserRequest(r *userpb.UnfollowUserRequest) error {
	return requireUserID(r.GetUserId())
}
func checkBlockUserRequest(r *userpb.BlockUserRequest) error     { return requireUserID(r.GetUserId()) }
func checkUnblockUserRequest(r *userpb.UnblockUserRequest) error { return requireUserID(r.GetUserId()) }

// MaxPresenceIDs is how many users one GetPresence may ask about.
const MaxPresenceIDs = 200

func checkGetPresenceRequest(r *userpb.GetPresenceRequest) error {
	ids := r.GetUserId()
	if len(ids) == 0 || len(ids) > MaxPresenceIDs {
		return fmt.Errorf("user_id: 1 to %d ids, not %d", MaxPresenceIDs, len(ids))
	}
	for i, id := range ids {
		if id == 0 {
			return fmt.Errorf("user_id[%d]: is required (0 is no user)", i)
		}
	}
	return nil
}

// Rules are the package's request rules, one per request type.
var Rules = []validate.Rule{
	validate.For(checkUserCreateRequest),
	validate.For(checkUserLoginRequest),
	validate.For(checkUserGetRequest),
	validate.For(checkUserQueryRequest),
	validate.For(checkUpdatePasswordRequest),
	validate.For(checkUpdateAvatarRequest),
	validate.For(checkFollowUserRequest),
	validate.For(checkUnfollowUserRequest),
	validate.For(checkBlockUserRequest),
	validate.For(checkUnblockUserRequest),
	// Lists: a zero user_id is the caller; paging clamps page and size.
	validate.None[*userpb.ListFollowingRequest](),
	validate.None[*userpb.ListFollowersRequest](),
	validate.None[*userpb.ListBlockedRequest](),
	validate.For(checkGetPresenceRequest),
	// A bool, and nothing: every request is a valid one.
	validate.None[*userpb.UpdatePrivacyRequest](),
	validate.None[*userpb.GetPrivacyRequest](),
}
