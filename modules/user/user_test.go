package user_test

import (
	"context"
	"crypto/sha256"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alexedwards/argon2id"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/parley-im/parley/api/gen/commonpb"
	"github.com/parley-im/parley/api/gen/userpb"
	"github.com/parley-im/parley/modules/user"
	"github.com/parley-im/parley/platform/grpcserver"
	"github.com/parley-im/parley/platform/testdb"
	"github.com/parley-im/parley/platform/testkit"
	"github.com/parley-im/parley/platform/testserver"
)

const password = "secret123"

func defaultConfig() user.Config {
	return user.Config{TokenTTL: time.Hour, LoginMaxFailures: 10, LoginWindow: time.Minute, PasswordParams: testkit.CheapHashing}
}

// setup serves the user module on a real gRPC server over the package's
// database and returns a client.
func setup(t *testing.T, cfg user.Config) userpb.UserServiceClient {
	t.Helper()
	mod := user.New(testdb.Pool(t), testkit.MediaLinks(t), cfg)
	conn := testserver.Start(t, grpcserver.Options{Authenticator: mod, PublicMethods: user.PublicMethods}, mod.Register)
	return userpb.NewUserServiceClient(conn)
}

func createUser(t *testing.T, c userpb.UserServiceClient, nickname string) *userpb.User {
	t.Helper()
	resp, err := c.CreateUser(context.Background(), &userpb.UserCreateRequest{
		Nickname: nickname, Password: password, PasswordRpt: password,
	})
	require.NoError(t, err)
	return resp.GetUser()
}

func login(t *testing.T, c userpb.UserServiceClient, nickname, pw string) string {
	t.Helper()
	resp, err := c.UserLogin(context.Background(), &userpb.UserLoginRequest{Nickname: nickname, Password: pw})
	require.NoError(t, err)
	require.NotEmpty(t, resp.GetToken())
	return resp.GetToken()
}

func TestCreateUser(t *testing.T) {
	t.Parallel()
	c := setup(t, defaultConfig())
	nick := testkit.Unique("Zoë ")

	resp, err := c.CreateUser(context.Background(), &userpb.UserCreateRequest{
		Nickname:    "  " + nick + "  ",
		Gender:      commonpb.Gender_Female,
		AvatarUrl:   "https://cdn.example.com/a.png",
		Password:    password,
		PasswordRpt: password,
	})
	require.NoError(t, err)
	u := resp.GetUser()
	require.NotZero(t, u.GetId())
	require.Equal(t, nick, u.GetNickname(), "nickname is stored trimmed")
	require.Equal(t, commonpb.Gender_Female, u.GetGender())
	require.Equal(t, "https://cdn.example.com/a.png", u.GetAvatarUrl())
	require.NotNil(t, u.GetCreatedAt())
	require.NotNil(t, u.GetUpdatedAt())
	require.Nil(t, u.GetDeletedAt())
	require.WithinDuration(t, time.Now(), u.GetCreatedAt().AsTime(), time.Minute)

	t.Run("duplicate nickname in another case", func(t *testing.T) {
		_, err := c.CreateUser(context.Background(), &userpb.UserCreateRequest{
			Nickname: strings.ToUpper(nick), Password: password, PasswordRpt: password,
		})
		testkit.RequireCode(t, err, codes.AlreadyExists)
	})
}

func TestCreateUserValidation(t *testing.T) {
	t.Parallel()
	c := setup(t, defaultConfig())
	valid := func() *userpb.UserCreateRequest {
		return &userpb.UserCreateRequest{Nickname: testkit.Unique("v"), Password: password, PasswordRpt: password}
	}
	tests := []struct {
		name    string
		mutate  func(r *userpb.UserCreateRequest)
		wantMsg string
	}{
		{"empty nickname", func(r *userpb.UserCreateRequest) { r.Nickname = "" }, "nickname"},
		{"blank nickname", func(r *userpb.UserCreateRequest) { r.Nickname = "   " }, "nickname"},
		{"nickname of 33 characters", func(r *userpb.UserCreateRequest) { r.Nickname = strings.Repeat("张", 33) }, "nickname"},
		{"nickname with a control character", func(r *userpb.UserCreateRequest) { r.Nickname = "a\x00b" }, "nickname"},
		{"password of 7 characters", func(r *userpb.UserCreateRequest) { r.Password, r.PasswordRpt = "1234567", "1234567" }, "password"},
		{"password of 129 characters", func(r *userpb.UserCreateRequest) {
			r.Password = strings.Repeat("p", 129)
			r.PasswordRpt = r.Password
		}, "password"},
		{"password_rpt differs", func(r *userpb.UserCreateRequest) { r.PasswordRpt = password + "x" }, "password_rpt"},
		{"undefined gender", func(r *userpb.UserCreateRequest) { r.Gender = commonpb.Gender(7) }, "gender"},
		{"avatar_url not http", func(r *userpb.UserCreateRequest) { r.AvatarUrl = "ftp://example.com/a.png" }, "avatar_url"},
		{"avatar_url relative", func(r *userpb.UserCreateRequest) { r.AvatarUrl = "/a.png" }, "avatar_url"},
		{"avatar_url over 1024", func(r *userpb.UserCreateRequest) {
			r.AvatarUrl = "https://example.com/" + strings.Repeat("a", 1010)
		}, "avatar_url"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := valid()
			tt.mutate(req)
			_, err := c.CreateUser(context.Background(), req)
			st := testkit.RequireCode(t, err, codes.InvalidArgument)
			require.Contains(t, st.Message(), tt.wantMsg)
		})
	}

	t.Run("boundaries are accepted", func(t *testing.T) {
		req := valid()
		req.Nickname = testkit.Unique(strings.Repeat("张", 24)) // 24 + 8 hex = 32 characters
		req.Password = strings.Repeat("correct horse battery staple ", 5)[:128]
		req.PasswordRpt = req.Password
		req.Gender = commonpb.Gender_Male
		req.AvatarUrl = "http://example.com/" + strings.Repeat("a", 1024-len("http://example.com/"))
		_, err := c.CreateUser(context.Background(), req)
		require.NoError(t, err)
	})
}

func TestLoginAndGetUser(t *testing.T) {
	t.Parallel()
	c := setup(t, defaultConfig())
	nick := testkit.Unique("ann")
	u := createUser(t, c, nick)

	token := login(t, c, strings.ToUpper(nick), password)
	got, err := c.GetUser(testkit.WithToken(token), &userpb.UserGetRequest{Id: u.GetId()})
	require.NoError(t, err)
	require.Equal(t, u.GetId(), got.GetUser().GetId())
	require.Equal(t, nick, got.GetUser().GetNickname())

	_, err = c.GetUser(testkit.WithToken(token), &userpb.UserGetRequest{Id: u.GetId() + 1_000_000})
	testkit.RequireCode(t, err, codes.NotFound)
	_, err = c.GetUser(testkit.WithToken(token), &userpb.UserGetRequest{Id: 0})
	testkit.RequireCode(t, err, codes.InvalidArgument)

	t.Run("wrong password and unknown nickname answer alike", func(t *testing.T) {
		_, errWrong := c.UserLogin(context.Background(), &userpb.UserLoginRequest{Nickname: nick, Password: "wrong-password"})
		_, errUnknown := c.UserLogin(context.Background(), &userpb.UserLoginRequest{Nickname: testkit.Unique("ghost"), Password: password})
		stWrong := testkit.RequireCode(t, errWrong, codes.Unauthenticated)
		stUnknown := testkit.RequireCode(t, errUnknown, codes.Unauthenticated)
		require.Equal(t, stWrong.Message(), stUnknown.Message())
	})
}

func TestAuthentication(t *testing.T) {
	t.Parallel()
	c := setup(t, defaultConfig())
	nick := testkit.Unique("auth")
	u := createUser(t, c, nick)
	get := &userpb.UserGetRequest{Id: u.GetId()}

	t.Run("no token", func(t *testing.T) {
		_, err := c.GetUser(context.Background(), get)
		testkit.RequireCode(t, err, codes.Unauthenticated)
	})
	t.Run("not a bearer token", func(t *testing.T) {
		ctx := metadata.AppendToOutgoingContext(context.Background(), "authorization", "Basic YWxhZGRpbjpvcGVuc2VzYW1l")
		_, err := c.GetUser(ctx, get)
		testkit.RequireCode(t, err, codes.Unauthenticated)
	})
	t.Run("unknown token", func(t *testing.T) {
		_, err := c.GetUser(testkit.WithToken("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"), get)
		testkit.RequireCode(t, err, codes.Unauthenticated)
	})
	t.Run("malformed token", func(t *testing.T) {
		_, err := c.GetUser(testkit.WithToken("x"), get)
		testkit.RequireCode(t, err, codes.Unauthenticated)
	})
	t.Run("expired token", func(t *testing.T) {
		cfg := defaultConfig()
		cfg.TokenTTL = 300 * time.Millisecond
		short := setup(t, cfg)
		token := login(t, short, nick, password)
		_, err := short.GetUser(testkit.WithToken(token), get)
		require.NoError(t, err)
		time.Sleep(500 * time.Millisecond)
		_, err = short.GetUser(testkit.WithToken(token), get)
		testkit.RequireCode(t, err, codes.Unauthenticated)
	})
}

func TestUpdatePasswordRevokesTokens(t *testing.T) {
	t.Parallel()
	c := setup(t, defaultConfig())
	nick := testkit.Unique("pw")
	u := createUser(t, c, nick)
	first := login(t, c, nick, password)
	second := login(t, c, nick, password)

	_, err := c.UpdatePassword(testkit.WithToken(first), &userpb.UpdatePasswordRequest{Password: "short", PasswordRpt: "short"})
	testkit.RequireCode(t, err, codes.InvalidArgument)
	_, err = c.UpdatePassword(testkit.WithToken(first), &userpb.UpdatePasswordRequest{Password: "new-secret-1", PasswordRpt: "new-secret-2"})
	testkit.RequireCode(t, err, codes.InvalidArgument)

	_, err = c.UpdatePassword(testkit.WithToken(first), &userpb.UpdatePasswordRequest{Password: "new-secret-1", PasswordRpt: "new-secret-1"})
	require.NoError(t, err)

	for _, old := range []string{first, second} {
		_, err = c.GetUser(testkit.WithToken(old), &userpb.UserGetRequest{Id: u.GetId()})
		testkit.RequireCode(t, err, codes.Unauthenticated)
	}
	_, err = c.UserLogin(context.Background(), &userpb.UserLoginRequest{Nickname: nick, Password: password})
	testkit.RequireCode(t, err, codes.Unauthenticated)
	fresh := login(t, c, nick, "new-secret-1")
	_, err = c.GetUser(testkit.WithToken(fresh), &userpb.UserGetRequest{Id: u.GetId()})
	require.NoError(t, err)

	_, err = c.UpdatePassword(context.Background(), &userpb.UpdatePasswordRequest{Password: "new-secret-3", PasswordRpt: "new-secret-3"})
	testkit.RequireCode(t, err, codes.Unauthenticated)
}

func TestUpdateAvatarChangesOnlyTheCaller(t *testing.T) {
	t.Parallel()
	c := setup(t, defaultConfig())
	alice := createUser(t, c, testkit.Unique("alice"))
	bob := createUser(t, c, testkit.Unique("bob"))
	token := login(t, c, alice.GetNickname(), password)

	_, err := c.UpdateAvatar(testkit.WithToken(token), &userpb.UpdateAvatarRequest{Url: "javascript:alert(1)"})
	testkit.RequireCode(t, err, codes.InvalidArgument)

	_, err = c.UpdateAvatar(testkit.WithToken(token), &userpb.UpdateAvatarRequest{Url: "https://img.example.com/alice.png"})
	require.NoError(t, err)

	got, err := c.GetUser(testkit.WithToken(token), &userpb.UserGetRequest{Id: alice.GetId()})
	require.NoError(t, err)
	require.Equal(t, "https://img.example.com/alice.png", got.GetUser().GetAvatarUrl())
	require.True(t, got.GetUser().GetUpdatedAt().AsTime().After(alice.GetUpdatedAt().AsTime()), "updated_at moves")

	other, err := c.GetUser(testkit.WithToken(token), &userpb.UserGetRequest{Id: bob.GetId()})
	require.NoError(t, err)
	require.Empty(t, other.GetUser().GetAvatarUrl())

	_, err = c.UpdateAvatar(testkit.WithToken(token), &userpb.UpdateAvatarRequest{Url: ""})
	require.NoError(t, err, "an empty url clears the avatar")
	got, err = c.GetUser(testkit.WithToken(token), &userpb.UserGetRequest{Id: alice.GetId()})
	require.NoError(t, err)
	require.Empty(t, got.GetUser().GetAvatarUrl())
}

func TestLoginRateLimit(t *testing.T) {
	t.Parallel()
	cfg := defaultConfig()
	cfg.LoginWindow = 3 * time.Second
	c := setup(t, cfg)
	nick := testkit.Unique("brute")
	createUser(t, c, nick)
	bad := &userpb.UserLoginRequest{Nickname: nick, Password: "wrong-password"}

	for range 10 {
		_, err := c.UserLogin(context.Background(), bad)
		testkit.RequireCode(t, err, codes.Unauthenticated)
	}
	_, err := c.UserLogin(context.Background(), bad)
	testkit.RequireCode(t, err, codes.ResourceExhausted)
	_, err = c.UserLogin(context.Background(), &userpb.UserLoginRequest{Nickname: strings.ToUpper(nick), Password: password})
	testkit.RequireCode(t, err, codes.ResourceExhausted) // the right password too, and in any case

	other := testkit.Unique("bystander")
	createUser(t, c, other)
	login(t, c, other, password) // other nicknames are unaffected

	time.Sleep(cfg.LoginWindow + 200*time.Millisecond)
	login(t, c, nick, password)
}

func TestQueryUser(t *testing.T) {
	t.Parallel()
	c := setup(t, defaultConfig())
	tag := testkit.Unique("q")
	var created []*userpb.User
	for _, name := range []string{"张伟" + tag, "张三" + tag, "李四" + tag, "Anna" + tag, "JOHANNA" + tag, "bob" + tag} {
		created = append(created, createUser(t, c, name))
	}
	token := login(t, c, created[0].GetNickname(), password)
	query := func(keyword string, page, size uint64) *userpb.UserQueryResponse {
		t.Helper()
		resp, err := c.QueryUser(testkit.WithToken(token), &userpb.UserQueryRequest{Keyword: keyword, Page: page, PageSize: size})
		require.NoError(t, err)
		return resp
	}
	nicknames := func(resp *userpb.UserQueryResponse) []string {
		var out []string
		for _, u := range resp.GetUser() {
			if strings.HasSuffix(u.GetNickname(), tag) {
				out = append(out, strings.TrimSuffix(u.GetNickname(), tag))
			}
		}
		return out
	}

	tests := []struct {
		keyword string
		want    []string
	}{
		{"张", []string{"张伟", "张三"}},
		{"张三" + tag, []string{"张三"}},
		{"四" + tag, []string{"李四"}},
		{"ANNA" + tag, []string{"Anna", "JOHANNA"}},
		{"anna", []string{"Anna", "JOHANNA"}},
		{"b" + tag, []string{"bob"}},
		{"nobody-has-this" + tag, nil},
	}
	for _, tt := range tests {
		t.Run(tt.keyword, func(t *testing.T) {
			resp := query(tt.keyword, 1, 100)
			require.Equal(t, tt.want, nicknames(resp))
		})
	}

	t.Run("paging", func(t *testing.T) {
		resp := query(tag, 0, 4)
		require.Equal(t, &commonpb.Pager{Page: 1, PageZie: 4, TotalRows: 6, TotalPages: 2}, protoPager(resp))
		require.Len(t, resp.GetUser(), 4)
		second := query(tag, 2, 4)
		require.Equal(t, uint64(2), second.GetPager().GetPage())
		require.Len(t, second.GetUser(), 2)
		var ids []uint64
		for _, u := range append(resp.GetUser(), second.GetUser()...) {
			ids = append(ids, u.GetId())
		}
		for i := 1; i < len(ids); i++ {
			require.Less(t, ids[i-1], ids[i], "ordered by id")
		}
		require.Empty(t, query(tag, 3, 4).GetUser())
	})
	t.Run("page size defaults to 20 and is capped at 100", func(t *testing.T) {
		require.Equal(t, uint64(20), query(tag, 1, 0).GetPager().GetPageZie())
		require.Equal(t, uint64(100), query(tag, 1, 1000).GetPager().GetPageZie())
	})
	t.Run("empty keyword lists everyone", func(t *testing.T) {
		resp := query("", 1, 100)
		require.GreaterOrEqual(t, resp.GetPager().GetTotalRows(), uint64(6))
		p := resp.GetPager()
		require.Equal(t, (p.GetTotalRows()+99)/100, p.GetTotalPages())
	})
	t.Run("keyword longer than a nickname", func(t *testing.T) {
		_, err := c.QueryUser(testkit.WithToken(token), &userpb.UserQueryRequest{Keyword: strings.Repeat("k", 33)})
		testkit.RequireCode(t, err, codes.InvalidArgument)
	})
}

func protoPager(resp *userpb.UserQueryResponse) *commonpb.Pager {
	p := resp.GetPager()
	return &commonpb.Pager{Page: p.GetPage(), PageZie: p.GetPageZie(), TotalRows: p.GetTotalRows(), TotalPages: p.GetTotalPages()}
}

// TestNicknameSearchUsesIndex shows the search query is served by the GIN
// index rather than a sequential scan once the table is large.
func TestNicknameSearchUsesIndex(t *testing.T) {
	t.Parallel()
	pool := testdb.Pool(t)
	ctx := context.Background()
	// A separate copy of the users table keeps these rows out of the other tests.
	_, err := pool.Exec(ctx, `
		DROP TABLE IF EXISTS users.users_explain;
		CREATE TABLE users.users_explain (LIKE users.users INCLUDING ALL);
		INSERT INTO users.users_explain (nickname, nickname_folded, password_hash)
		SELECT 'user' || i, 'user' || i, 'x' FROM generate_series(1, 100000) AS i;
		ANALYZE users.users_explain;`)
	require.NoError(t, err)
	for _, keyword := range []string{"张", "user4242", "r9"} {
		var plan strings.Builder
		rows, err := pool.Query(ctx, `EXPLAIN SELECT * FROM users.users_explain
			WHERE search.grams(nickname_folded) @> search.keyword_grams($1::text)
			  AND strpos(nickname_folded, $1::text) > 0 AND deleted_at IS NULL
			ORDER BY id LIMIT 20`, keyword)
		require.NoError(t, err)
		for rows.Next() {
			var line string
			require.NoError(t, rows.Scan(&line))
			plan.WriteString(line + "\n")
		}
		require.NoError(t, rows.Err())
		if keyword == "r9" {
			// Matches a tenth of the table: the planner may walk the id index instead; either way no full seq scan.
			require.NotContains(t, plan.String(), "Seq Scan", plan.String())
			continue
		}
		require.Contains(t, plan.String(), "users_explain_grams_idx", plan.String())
	}
}

func TestConcurrentSignUpsOfOneNickname(t *testing.T) {
	t.Parallel()
	c := setup(t, defaultConfig())
	nick := testkit.Unique("race")
	var wg sync.WaitGroup
	results := make([]error, 8)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, results[i] = c.CreateUser(context.Background(), &userpb.UserCreateRequest{
				Nickname: nick, Password: password, PasswordRpt: password,
			})
		}()
	}
	wg.Wait()
	created := 0
	for _, err := range results {
		if err == nil {
			created++
			continue
		}
		testkit.RequireCode(t, err, codes.AlreadyExists)
	}
	require.Equal(t, 1, created)
}

func TestDefaultPasswordCost(t *testing.T) {
	t.Parallel()
	cfg := defaultConfig()
	cfg.PasswordParams = nil
	c := setup(t, cfg)
	nick := testkit.Unique("strong")
	createUser(t, c, nick)
	login(t, c, nick, password)

	var hash string
	require.NoError(t, testdb.Pool(t).QueryRow(context.Background(),
		"SELECT password_hash FROM users.users WHERE nickname = $1", nick).Scan(&hash))
	require.True(t, strings.HasPrefix(hash, "$argon2id$v=19$m=19456,t=2,p=1$"), hash)
	require.NotContains(t, hash, password)
}

// Parallel guesses are counted like sequential ones: of 30 at once, no more
// than the limit get to try a password.
func TestLoginRateLimitHoldsUnderParallelGuesses(t *testing.T) {
	t.Parallel()
	c := setup(t, defaultConfig())
	nick := testkit.Unique("parallel")
	createUser(t, c, nick)

	var wg sync.WaitGroup
	codesSeen := make([]codes.Code, 30)
	for i := range codesSeen {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := c.UserLogin(context.Background(), &userpb.UserLoginRequest{Nickname: nick, Password: "wrong-password"})
			codesSeen[i] = status.Code(err)
		}()
	}
	wg.Wait()
	tried := 0
	for _, code := range codesSeen {
		switch code {
		case codes.Unauthenticated:
			tried++
		case codes.ResourceExhausted:
		default:
			t.Fatalf("unexpected code %v", code)
		}
	}
	require.Equal(t, 10, tried, "exactly the limit's worth of guesses were checked")
}

func TestLoginNicknameIsValidated(t *testing.T) {
	t.Parallel()
	c := setup(t, defaultConfig())
	for _, nick := range []string{"", "a\x00b", strings.Repeat("n", 3000)} {
		_, err := c.UserLogin(context.Background(), &userpb.UserLoginRequest{Nickname: nick, Password: password})
		testkit.RequireCode(t, err, codes.InvalidArgument)
	}
}

// With the token cache on, a revocation on this node and a token's expiry
// still take effect at once.
func TestAuthCacheKeepsRevocationAndExpiry(t *testing.T) {
	t.Parallel()
	cfg := defaultConfig()
	cfg.AuthCacheTTL = time.Minute
	c := setup(t, cfg)
	nick := testkit.Unique("cached")
	u := createUser(t, c, nick)
	token := login(t, c, nick, password)
	get := &userpb.UserGetRequest{Id: u.GetId()}
	_, err := c.GetUser(testkit.WithToken(token), get) // now cached
	require.NoError(t, err)
	_, err = c.UpdatePassword(testkit.WithToken(token), &userpb.UpdatePasswordRequest{Password: "new-secret-1", PasswordRpt: "new-secret-1"})
	require.NoError(t, err)
	_, err = c.GetUser(testkit.WithToken(token), get)
	testkit.RequireCode(t, err, codes.Unauthenticated)

	cfg.TokenTTL = 300 * time.Millisecond
	short := setup(t, cfg)
	token = login(t, short, nick, "new-secret-1")
	_, err = short.GetUser(testkit.WithToken(token), get)
	require.NoError(t, err)
	time.Sleep(500 * time.Millisecond)
	_, err = short.GetUser(testkit.WithToken(token), get)
	testkit.RequireCode(t, err, codes.Unauthenticated)
}

// Each further round of failed logins from an address waits twice as long
// as the one before: LoginWindow, then twice it.
func TestLoginBackoffDoubles(t *testing.T) {
	t.Parallel()
	cfg := defaultConfig()
	cfg.LoginMaxFailures, cfg.LoginWindow = 3, time.Second
	c := setup(t, cfg)
	nick := testkit.Unique("backoff")
	createUser(t, c, nick)
	bad := &userpb.UserLoginRequest{Nickname: nick, Password: "wrong-password"}
	round := func() {
		t.Helper()
		for range 3 {
			_, err := c.UserLogin(context.Background(), bad)
			testkit.RequireCode(t, err, codes.Unauthenticated)
		}
		_, err := c.UserLogin(context.Background(), bad)
		testkit.RequireCode(t, err, codes.ResourceExhausted)
	}
	round()
	time.Sleep(1200 * time.Millisecond) // the first wait is the window
	round()
	time.Sleep(1200 * time.Millisecond)
	_, err := c.UserLogin(context.Background(), &userpb.UserLoginRequest{Nickname: nick, Password: password})
	testkit.RequireCode(t, err, codes.ResourceExhausted) // the second wait is twice the window
	time.Sleep(time.Second)
	login(t, c, nick, password)
	round() // a success forgets the address's failures: back to the first round
}

// The commonest passwords and ones of spaces only are refused when set
// (sign-up, UpdatePassword), naming the field; a password set before the
// rule still logs in.
func TestCommonPasswordsAreRefused(t *testing.T) {
	t.Parallel()
	c := setup(t, defaultConfig())
	for _, weak := range []string{"password", "12345678", "qwertyuiop", "        ", "iloveyou"} {
		_, err := c.CreateUser(context.Background(), &userpb.UserCreateRequest{Nickname: testkit.Unique("weak"), Password: weak, PasswordRpt: weak})
		st := testkit.RequireCode(t, err, codes.InvalidArgument)
		require.True(t, strings.HasPrefix(st.Message(), "password:"), st.Message())
	}
	nick := testkit.Unique("ok")
	createUser(t, c, nick)
	token := login(t, c, nick, password)
	_, err := c.UpdatePassword(testkit.WithToken(token), &userpb.UpdatePasswordRequest{Password: "password", PasswordRpt: "password"})
	testkit.RequireCode(t, err, codes.InvalidArgument)

	// A weak password stored before the rule keeps working.
	legacy := testkit.Unique("legacy")
	createUser(t, c, legacy)
	hash, err := argon2id.CreateHash("12345678", testkit.CheapHashing)
	require.NoError(t, err)
	_, err = testdb.Pool(t).Exec(context.Background(), "UPDATE users.users SET password_hash = $1 WHERE nickname = $2", hash, legacy)
	require.NoError(t, err)
	login(t, c, legacy, "12345678")
}

// A stolen token is not enough to change the password: without
// old_password only a token from a login within 5 minutes may; with it, the
// old password must match (wrong guesses count as failed logins).
func TestUpdatePasswordNeedsTheOldOneOrAFreshLogin(t *testing.T) {
	t.Parallel()
	c := setup(t, defaultConfig())
	nick := testkit.Unique("owner")
	createUser(t, c, nick)
	token := login(t, c, nick, password)
	hash := sha256.Sum256([]byte(token))
	_, err := testdb.Pool(t).Exec(context.Background(),
		"UPDATE users.tokens SET created_at = now() - interval '10 minutes' WHERE token_hash = $1", hash[:])
	require.NoError(t, err)
	stale := testkit.WithToken(token)

	_, err = c.UpdatePassword(stale, &userpb.UpdatePasswordRequest{Password: "new-secret-1", PasswordRpt: "new-secret-1"})
	st := testkit.RequireCode(t, err, codes.FailedPrecondition)
	require.Contains(t, st.Message(), "old_password")
	_, err = c.UpdatePassword(stale, &userpb.UpdatePasswordRequest{Password: "new-secret-1", PasswordRpt: "new-secret-1", OldPassword: "not-the-password"})
	testkit.RequireCode(t, err, codes.PermissionDenied)
	login(t, c, nick, password) // unchanged

	_, err = c.UpdatePassword(stale, &userpb.UpdatePasswordRequest{Password: "new-secret-1", PasswordRpt: "new-secret-1", OldPassword: password})
	require.NoError(t, err, "the old password proves it")
	fresh := testkit.WithToken(login(t, c, nick, "new-secret-1"))
	_, err = c.UpdatePassword(fresh, &userpb.UpdatePasswordRequest{Password: "new-secret-2", PasswordRpt: "new-secret-2"})
	require.NoError(t, err, "a fresh login proves it (the seed's clients send no old_password)")
	login(t, c, nick, "new-secret-2")

	// Guessing the old password with a token is guessing a login.
	token = login(t, c, nick, "new-secret-2")
	for range 10 {
		_, err = c.UpdatePassword(testkit.WithToken(token), &userpb.UpdatePasswordRequest{Password: "new-secret-3", PasswordRpt: "new-secret-3", OldPassword: "guess"})
		testkit.RequireCode(t, err, codes.PermissionDenied)
	}
	_, err = c.UpdatePassword(testkit.WithToken(token), &userpb.UpdatePasswordRequest{Password: "new-secret-3", PasswordRpt: "new-secret-3", OldPassword: "new-secret-2"})
	testkit.RequireCode(t, err, codes.ResourceExhausted)
}
