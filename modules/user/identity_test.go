package user_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"

	"github.com/parley-im/parley/api/gen/userpb"
	"github.com/parley-im/parley/platform/testdb"
	"github.com/parley-im/parley/platform/testkit"
)

// The nicknames a tester signed up as another user's look-alike, or as
// nothing visible at all, are refused and say why.
func TestInvisibleNicknamesAreRefused(t *testing.T) {
	t.Parallel()
	c := setup(t, defaultConfig())
	base := testkit.Unique("alice")
	for nickname, want := range map[string]string{
		base + "\u200b": "U+200B",
		base + "\u00ad": "U+00AD",
		base + "\u2800": "U+2800",
		"\u202e" + base: "U+202E",
		"\u200b":        "U+200B",
		base + "\u3164": "U+3164",
		"\u0301" + base: "combining mark",
	} {
		_, err := c.CreateUser(context.Background(), &userpb.UserCreateRequest{Nickname: nickname, Password: password, PasswordRpt: password})
		st := testkit.RequireCode(t, err, codes.InvalidArgument)
		require.Contains(t, st.Message(), "nickname: ", "%q", nickname)
		require.Contains(t, st.Message(), want, "%q", nickname)
	}
	var stored int
	require.NoError(t, testdb.Pool(t).QueryRow(context.Background(),
		"SELECT count(*) FROM users.users WHERE nickname LIKE '%' || $1 || '%'", base).Scan(&stored))
	require.Zero(t, stored, "a refused sign-up wrote nothing")
}

func TestLookAlikeNicknamesCollide(t *testing.T) {
	t.Parallel()
	c := setup(t, defaultConfig())
	base := testkit.Unique("alice")
	createUser(t, c, base)
	for _, lookAlike := range []string{
		"\u0430" + base[1:],     // Cyrillic а
		"\uff21" + base[1:],     // fullwidth Ａ
		"ALICE" + base[5:],      // case
		"al\u0456ce" + base[5:], // Cyrillic і
		"a1ice" + base[5:],      // digit one
		"aIice" + base[5:],      // capital i
	} {
		_, err := c.CreateUser(context.Background(), &userpb.UserCreateRequest{Nickname: lookAlike, Password: password, PasswordRpt: password})
		st := testkit.RequireCode(t, err, codes.AlreadyExists)
		require.Contains(t, st.Message(), "nickname: ", "%q", lookAlike)
	}
	b0b := testkit.Unique("b0b") // a digit zero
	createUser(t, c, b0b)
	_, err := c.CreateUser(context.Background(), &userpb.UserCreateRequest{Nickname: "bob" + b0b[3:], Password: password, PasswordRpt: password})
	testkit.RequireCode(t, err, codes.AlreadyExists)
	var stored int
	require.NoError(t, testdb.Pool(t).QueryRow(context.Background(),
		"SELECT count(*) FROM users.users WHERE nickname = $1", "bob"+b0b[3:]).Scan(&stored))
	require.Zero(t, stored, "a refused look-alike wrote no user")

	// Of eight sign-ups at once with look-alikes of one new nickname, one wins.
	fresh := testkit.Unique("bob")
	variants := []string{fresh, "b\u03bf" + fresh[2:], "\uff42" + fresh[1:], "B" + fresh[1:], "b\u043e" + fresh[2:], "\uff22" + fresh[1:], "b\uff4f" + fresh[2:], "BO" + fresh[2:]}
	errs := make(chan error, len(variants))
	for _, nickname := range variants {
		go func() {
			_, err := c.CreateUser(context.Background(), &userpb.UserCreateRequest{Nickname: nickname, Password: password, PasswordRpt: password})
			errs <- err
		}()
	}
	created := 0
	for range variants {
		if err := <-errs; err != nil {
			testkit.RequireCode(t, err, codes.AlreadyExists)
			continue
		}
		created++
	}
	require.Equal(t, 1, created)
}

func TestNicknamesAreStoredNormalised(t *testing.T) {
	t.Parallel()
	c := setup(t, defaultConfig())
	base := testkit.Unique("zoe")
	u := createUser(t, c, "\uff3a"+base[1:]+"\u3000 x") // fullwidth Ｚ, ideographic space
	require.Equal(t, "Z"+base[1:]+" x", u.GetNickname())
	login(t, c, "Z"+base[1:]+" x", password)
	login(t, c, "\uff3a"+base[1:]+"\u3000 x", password) // typed the way it was signed up
}

// seedNickname gives user id a nickname as the seed stored it: as typed,
// lower-cased, with no skeletons.
func seedNickname(t *testing.T, id uint64, nickname string) {
	t.Helper()
	pool := testdb.Pool(t)
	_, err := pool.Exec(context.Background(), "DELETE FROM users.nickname_skeletons WHERE user_id = $1", id)
	require.NoError(t, err)
	_, err = pool.Exec(context.Background(), "UPDATE users.users SET nickname = $1, nickname_folded = lower($1) WHERE id = $2", nickname, id)
	require.NoError(t, err)
}

// A nickname from before the rule (stored as typed, invisible characters
// and all) still signs in, and its typed form wins over a normalised one.
func TestNicknamesFromBeforeTheRuleStillSignIn(t *testing.T) {
	t.Parallel()
	c := setup(t, defaultConfig())
	pool := testdb.Pool(t)
	base := testkit.Unique("ann")
	normal := createUser(t, c, base)
	old := createUser(t, c, testkit.Unique("old"))
	oldNickname := "\uff41" + base[1:] // fullwidth ａ, as the seed stored it
	seedNickname(t, old.GetId(), oldNickname)

	me := func(token string) uint64 { // whose token it is
		var id uint64
		require.NoError(t, pool.QueryRow(context.Background(),
			"SELECT user_id FROM users.tokens WHERE token_hash = sha256($1::text::bytea)", token).Scan(&id))
		return id
	}
	require.Equal(t, old.GetId(), me(login(t, c, oldNickname, password)), "typed as stored: the old account")
	require.Equal(t, normal.GetId(), me(login(t, c, base, password)), "normalised: the new account")

	invisible := createUser(t, c, testkit.Unique("inv"))
	invisibleNickname := invisible.GetNickname() + "\u200b"
	seedNickname(t, invisible.GetId(), invisibleNickname)
	require.Equal(t, invisible.GetId(), me(login(t, c, invisibleNickname, password)))
}
