// Package app is the user module's behaviour: accounts, credentials, tokens.
package app

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"runtime"
	"sync/atomic"
	"time"

	"github.com/alexedwards/argon2id"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"golang.org/x/sync/semaphore"

	"github.com/parley-im/parley/api/rules/userrules"
	"github.com/parley-im/parley/modules/user/internal/db"
	"github.com/parley-im/parley/platform/apperr"
	"github.com/parley-im/parley/platform/auth"
	"github.com/parley-im/parley/platform/clientaddr"
	"github.com/parley-im/parley/platform/identity"
	"github.com/parley-im/parley/platform/paging"
	"github.com/parley-im/parley/platform/ratelimit"
	"github.com/parley-im/parley/platform/textsearch"
)

// Config tunes the module.
type Config struct {
	TokenTTL time.Duration
	// LoginMaxFailures failed logins for one nickname from one address
	// within LoginWindow block that address's further attempts until the
	// window passes; each further round of as many failures (within a day)
	// doubles the wait.
	LoginMaxFailures int
	LoginWindow      time.Duration
	// LoginNicknameCeiling failed logins for one nickname within
	// LoginWindow, from all addresses together, block it for everyone until
	// the window passes, so guessing stays bounded however many addresses
	// guess (0: 10 × LoginMaxFailures).
	LoginNicknameCeiling int
	// SignUpsPerMinute and LoginsPerMinute bound the CreateUser and
	// UserLogin calls from one address (clientaddr) on this node; loopback
	// is exempt (0: 20 and 60).
	SignUpsPerMinute, LoginsPerMinute int
	// PasswordParams is the argon2id cost of new password hashes; nil means
	// DefaultPasswordParams. Existing hashes carry their own parameters.
	PasswordParams *argon2id.Params
	// TokensRevoked, if set, is told after a user's tokens are revoked, so
	// sessions opened with them (gateway streams) can be ended and other
	// nodes can forget them (ForgetTokens).
	TokensRevoked func(userID uint64)
	// AuthCacheTTL is how long a resolved token is remembered: revocations
	// and admin changes made elsewhere (another node, the admin command)
	// take effect within it. 0 means no caching.
	AuthCacheTTL time.Duration
}

// Errors the module returns; the messages are what clients see.
var (
	ErrNotFound          = apperr.NotFound("user not found")
	ErrNicknameTaken     = apperr.AlreadyExists("nickname: already taken")
	ErrNicknameLookalike = apperr.AlreadyExists("nickname: looks like a nickname already taken (look-alike letters from other scripts, digits or case): choose another")
	ErrBadCredentials    = apperr.Unauthenticated("invalid nickname or password")
	ErrInvalidToken      = apperr.Unauthenticated("invalid, expired or revoked token")
	ErrSuspended         = apperr.PermissionDenied("this account is suspended")
	ErrTooManyLoginFails = apperr.ResourceExhausted("too many failed logins for this nickname: try again in a minute")
	ErrTooManySignUps    = apperr.ResourceExhausted("too many sign-ups from your address: try again in a minute")
	ErrTooManyLogins     = apperr.ResourceExhausted("too many logins from your address: try again in a minute")
	ErrHashingBusy       = apperr.Unavailable("the server is busy checking passwords: retry in a second")
	ErrWrongOldPassword  = apperr.PermissionDenied("old_password: does not match the current password")
	ErrStaleLogin        = apperr.FailedPrecondition("old_password: required, unless the token is from a login within the last 5 minutes: send it, or log in again")
)

// dayOfFailures is how long failed logins are remembered, for the backoff.
const dayOfFailures = 24 * time.Hour

// DefaultPasswordParams follow OWASP's argon2id recommendation (19 MiB, 2 passes).
var DefaultPasswordParams = &argon2id.Params{Memory: 19 * 1024, Iterations: 2, Parallelism: 1, SaltLength: 16, KeyLength: 32}

// Service implements the module over its schema.
type Service struct {
	pool *pgxpool.Pool
	q    *db.Queries
	cfg  Config
	// dummyHash is compared against when a nickname does not exist, so a
	// login takes as long whether or not the nickname exists.
	dummyHash string
	authCache *authCache
	// hashing bounds the argon2id runs at once: each takes the parameters'
	// memory (19 MiB by default), and sign-up and login are public. At most
	// hashingQueue calls wait for a run; more are refused at once.
	hashing        *semaphore.Weighted
	hashingWaiting atomic.Int64
	hashingQueue   int64
	// Sign-ups and logins per address (clientaddr.Key).
	signUps, logins *ratelimit.Keyed[string]
	// tracker, once NewTracker made it, tells contacts of privacy changes.
	tracker *Tracker
}

func New(pool *pgxpool.Pool, cfg Config) *Service {
	if cfg.PasswordParams == nil {
		cfg.PasswordParams = DefaultPasswordParams
	}
	dummy, err := argon2id.CreateHash("parley-dummy-password", cfg.PasswordParams)
	if err != nil {
		panic(err) // only crypto/rand failing, which Go treats as fatal anyway
	}
	if cfg.LoginNicknameCeiling <= 0 {
		cfg.LoginNicknameCeiling = 10 * cfg.LoginMaxFailures
	}
	if cfg.SignUpsPerMinute <= 0 {
		cfg.SignUpsPerMinute = 20
	}
	if cfg.LoginsPerMinute <= 0 {
		cfg.LoginsPerMinute = 60
	}
	slots := int64(2 * runtime.GOMAXPROCS(0))
	return &Service{
		pool: pool, q: db.New(pool), cfg: cfg, dummyHash: dummy,
		authCache:    newAuthCache(cfg.AuthCacheTTL, 100_000),
		hashing:      semaphore.NewWeighted(slots),
		hashingQueue: 32 * slots,
		signUps:      ratelimit.New[string](float64(cfg.SignUpsPerMinute)/60, cfg.SignUpsPerMinute),
		logins:       ratelimit.New[string](float64(cfg.LoginsPerMinute)/60, cfg.LoginsPerMinute),
	}
}

// acquireHashing waits for a hashing slot, unless too many calls wait
// already: then the caller is told to retry, not queued without end.
func (s *Service) acquireHashing(ctx context.Context) error {
	if s.hashing.TryAcquire(1) {
		return nil
	}
	defer s.hashingWaiting.Add(-1)
	if s.hashingWaiting.Add(1) > s.hashingQueue {
		return ErrHashingBusy
	}
	return s.hashing.Acquire(ctx, 1)
}

// allowFrom takes a token from the caller's address's bucket in limit.
// Loopback and unknown addresses are not limited: a proxy on this host
// must be in -trusted-proxies for its clients to count one by one.
func allowFrom(ctx context.Context, limit *ratelimit.Keyed[string]) bool {
	addr, ok := clientaddr.From(ctx)
	if !ok || addr.IsLoopback() {
		return true
	}
	return limit.Allow(clientaddr.Key(addr))
}

// addressOf is the key failed logins are counted under.
func addressOf(ctx context.Context) string {
	if addr, ok := clientaddr.From(ctx); ok {
		return clientaddr.Key(addr)
	}
	return ""
}

// hashPassword hashes a new password, waiting for a hashing slot.
func (s *Service) hashPassword(ctx context.Context, password string) (string, error) {
	if err := s.acquireHashing(ctx); err != nil {
		return "", err
	}
	defer s.hashing.Release(1)
	hash, err := argon2id.CreateHash(password, s.cfg.PasswordParams)
	if err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	return hash, nil
}

// comparePassword checks password against hash, waiting for a hashing slot.
func (s *Service) comparePassword(ctx context.Context, password, hash string) (bool, error) {
	if err := s.acquireHashing(ctx); err != nil {
		return false, err
	}
	defer s.hashing.Release(1)
	match, err := argon2id.ComparePasswordAndHash(password, hash)
	if err != nil {
		return false, fmt.Errorf("compare password: %w", err)
	}
	return match, nil
}

// NewUser is a validated sign-up, its nickname normalised (identity.Name).
type NewUser struct {
	Nickname  string
	Gender    int16
	AvatarURL string
	Password  string
}

func (s *Service) CreateUser(ctx context.Context, in NewUser) (User, error) {
	if !allowFrom(ctx, s.signUps) {
		return User{}, ErrTooManySignUps
	}
	hash, err := s.hashPassword(ctx, in.Password)
	if err != nil {
		return User{}, err
	}
	// One transaction: the user and its nickname's skeletons, or neither.
	var u db.UsersUser
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		q := s.q.WithTx(tx)
		var err error
		u, err = q.CreateUser(ctx, db.CreateUserParams{
			Nickname:       in.Nickname,
			NicknameFolded: textsearch.Fold(in.Nickname),
			Gender:         in.Gender,
			AvatarUrl:      in.AvatarURL,
			PasswordHash:   hash,
		})
		if err != nil {
			return err
		}
		return q.ClaimNicknameSkeletons(ctx, db.ClaimNicknameSkeletonsParams{Skeletons: identity.Skeletons(in.Nickname), UserID: u.ID})
	})
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23505" { // unique_violation
		if pgErr.ConstraintName == "nickname_skeletons_pkey" {
			return User{}, ErrNicknameLookalike
		}
		return User{}, ErrNicknameTaken
	}
	if err != nil {
		return User{}, fmt.Errorf("create user: %w", err)
	}
	return userOf(u), nil
}

// Login checks the credentials and issues a new token; see reserveAttempt.
func (s *Service) Login(ctx context.Context, nickname, password string) (string, error) {
	if !allowFrom(ctx, s.logins) {
		return "", ErrTooManyLogins
	}
	// Failures count against the normalised nickname; see GetCredentials.
	typed, folded, address := textsearch.Fold(nickname), textsearch.Fold(identity.Normal(nickname)), addressOf(ctx)
	attempt, err := s.reserveAttempt(ctx, folded, address)
	if err != nil {
		return "", err
	}

	cred, err := s.q.GetCredentials(ctx, db.GetCredentialsParams{Typed: typed, Normalised: folded})
	hash := cred.PasswordHash
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		hash = s.dummyHash
	case err != nil:
		return "", fmt.Errorf("get credentials: %w", err)
	}
	match, err := s.comparePassword(ctx, password, hash)
	if err != nil {
		s.forgetAttempt(attempt)
		return "", err
	}
	if !match || hash == s.dummyHash {
		return "", ErrBadCredentials
	}
	// Told only to whoever knows the password.
	if cred.SuspendedAt != nil {
		return "", ErrSuspended
	}
	if err := s.q.ForgetLoginFailures(ctx, db.ForgetLoginFailuresParams{NicknameFolded: folded, Address: address}); err != nil {
		return "", fmt.Errorf("login attempt: %w", err)
	}
	return s.issueToken(ctx, cred.ID, hash)
}

// reserveAttempt records a password attempt for the nickname from address
// as a failure, under a lock on the nickname, unless the failures so far
// refuse it; the caller forgets it (ForgetLoginFailures) when the password
// was right, or forgetAttempt when it was not checked at all (the server
// was busy, the caller gone). So parallel guesses count as much as
// sequential ones.
func (s *Service) reserveAttempt(ctx context.Context, folded, address string) (int64, error) {
	var attempt int64
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		q := s.q.WithTx(tx)
		if err := q.LockNickname(ctx, folded); err != nil {
			return err
		}
		if err := q.PruneLoginFailures(ctx, dayOfFailures.Seconds()); err != nil {
			return err
		}
		everywhere, err := q.CountRecentLoginFailures(ctx, db.CountRecentLoginFailuresParams{
			NicknameFolded: folded, WindowSeconds: s.cfg.LoginWindow.Seconds(),
		})
		if err != nil {
			return err
		}
		if everywhere >= int64(s.cfg.LoginNicknameCeiling) {
			return ErrTooManyLoginFails
		}
		fromHere, err := q.LoginFailuresFrom(ctx, db.LoginFailuresFromParams{
			NicknameFolded: folded, Address: address, WindowSeconds: dayOfFailures.Seconds(),
		})
		if err != nil {
			return err
		}
		if wait := s.loginBackoff(fromHere.Failures, fromHere.LastFailedAt); wait > 0 {
			return apperr.ResourceExhausted("too many failed logins for this nickname from your address: try again in %s", wait.Round(time.Second))
		}
		attempt, err = q.RecordLoginAttempt(ctx, db.RecordLoginAttemptParams{NicknameFolded: folded, Address: address})
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("login attempt: %w", err)
	}
	return attempt, nil
}

// forgetAttempt drops a reserved attempt whose password was never checked.
func (s *Service) forgetAttempt(attempt int64) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = s.q.ForgetLoginAttempt(ctx, attempt) // at worst it counts as a failure
}

// loginBackoff is how much longer an address that failed failures times
// (within a day, the last at last) must wait: after each full round of
// LoginMaxFailures, LoginWindow, doubling with every round, up to a day.
func (s *Service) loginBackoff(failures int64, last time.Time) time.Duration {
	perRound := int64(s.cfg.LoginMaxFailures)
	rounds := failures / perRound
	if rounds == 0 || failures%perRound != 0 {
		return 0 // within a round
	}
	wait := dayOfFailures
	if rounds < 20 {
		wait = min(s.cfg.LoginWindow<<(rounds-1), dayOfFailures)
	}
	return time.Until(last.Add(wait))
}

// issueToken stores the SHA-256 of a new random token for userID; the token
// itself is only ever in the client's hands. checkedHash is the password
// hash the login was checked against: if the password changed meanwhile,
// no token is issued (the change revokes every token, this one included).
func (s *Service) issueToken(ctx context.Context, userID uint64, checkedHash string) (string, error) {
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return "", err
	}
	token := base64.RawURLEncoding.EncodeToString(raw)
	hash := sha256.Sum256([]byte(token))
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		q := s.q.WithTx(tx)
		current, err := q.PasswordHash(ctx, userID)
		if err != nil {
			return err
		}
		if current != checkedHash {
			return ErrBadCredentials
		}
		if err := q.DeleteExpiredTokens(ctx, userID); err != nil {
			return err
		}
		return q.CreateToken(ctx, db.CreateTokenParams{
			TokenHash: hash[:], UserID: userID, ExpiresAt: time.Now().Add(s.cfg.TokenTTL),
		})
	})
	if err != nil {
		return "", fmt.Errorf("issue token: %w", err)
	}
	return token, nil
}

// Authenticate resolves a token to its user's identity.
func (s *Service) Authenticate(ctx context.Context, token string) (auth.Identity, error) {
	if len(token) != base64.RawURLEncoding.EncodedLen(32) {
		return auth.Identity{}, ErrInvalidToken
	}
	hash := sha256.Sum256([]byte(token))
	now := time.Now()
	if id, ok := s.authCache.get(hash, now); ok {
		return id, nil
	}
	generation := s.authCache.current()
	row, err := s.q.Authenticate(ctx, hash[:])
	if errors.Is(err, pgx.ErrNoRows) {
		return auth.Identity{}, ErrInvalidToken
	}
	if err != nil {
		return auth.Identity{}, fmt.Errorf("authenticate: %w", err)
	}
	id := auth.Identity{UserID: row.ID, Admin: row.IsAdmin, ExpiresAt: row.ExpiresAt, IssuedAt: row.CreatedAt}
	s.authCache.put(hash, id, now, row.ExpiresAt, generation)
	return id, nil
}

func (s *Service) GetUser(ctx context.Context, id uint64) (User, error) {
	u, err := s.getUser(ctx, id)
	return userOf(u), err
}

// getUser is the stored user, credentials included.
func (s *Service) getUser(ctx context.Context, id uint64) (db.UsersUser, error) {
	u, err := s.q.GetUser(ctx, id)
	if errors.Is(err, pgx.ErrNoRows) {
		return db.UsersUser{}, ErrNotFound
	}
	if err != nil {
		return db.UsersUser{}, fmt.Errorf("get user %d: %w", id, err)
	}
	return u, nil
}

func (s *Service) GetUsers(ctx context.Context, ids []uint64) ([]User, error) {
	// The query's array parameter is bigint[]: sqlc types it []int64.
	ids64 := make([]int64, len(ids))
	for i, id := range ids {
		ids64[i] = int64(id)
	}
	users, err := s.q.GetUsersByIDs(ctx, ids64)
	if err != nil {
		return nil, fmt.Errorf("get users: %w", err)
	}
	return usersOf(users, userOf), nil
}

// QueryUsers lists users whose nickname contains keyword (case-insensitive),
// or all users for an empty keyword, by id, one page at a time.
func (s *Service) QueryUsers(ctx context.Context, keyword string, page paging.Page) ([]User, uint64, error) {
	keyword = textsearch.Fold(keyword)
	var (
		users []db.UsersUser
		total int64
		err   error
	)
	if keyword == "" {
		users, err = s.q.ListUsers(ctx, db.ListUsersParams{RowLimit: page.Limit(), RowOffset: page.Offset()})
		if err == nil {
			total, err = s.q.CountUsers(ctx)
		}
	} else {
		users, err = s.q.SearchUsers(ctx, db.SearchUsersParams{Keyword: keyword, RowLimit: page.Limit(), RowOffset: page.Offset()})
		if err == nil {
			total, err = s.q.CountSearchUsers(ctx, keyword)
		}
	}
	if err != nil {
		return nil, 0, fmt.Errorf("query users: %w", err)
	}
	return usersOf(users, userOf), uint64(total), nil
}

// UpdatePassword sets a new password and revokes every token of the user.
// freshLogin is how recent a token's login must be for UpdatePassword
// without the old password.
const freshLogin = 5 * time.Minute

// UpdatePassword sets the caller's new password, proven by oldPassword or,
// without it (the seed's clients), by a token from a fresh login: a stolen
// token alone does not take the account over. A wrong old password counts
// as a failed login.
func (s *Service) UpdatePassword(ctx context.Context, caller auth.Identity, oldPassword, password string) error {
	userID := caller.UserID
	u, err := s.getUser(ctx, userID)
	if err != nil {
		return err
	}
	// The validator knew no nickname; a guesser would.
	if err := userrules.CheckPasswordStrength(password, u.Nickname); err != nil {
		return apperr.InvalidArgument("%s", err.Error())
	}
	if oldPassword == "" {
		if time.Since(caller.IssuedAt) > freshLogin {
			return ErrStaleLogin
		}
	} else if err := s.checkPassword(ctx, u, oldPassword); err != nil {
		return err
	}
	hash, err := s.hashPassword(ctx, password)
	if err != nil {
		return err
	}
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		q := s.q.WithTx(tx)
		n, err := q.UpdatePassword(ctx, db.UpdatePasswordParams{ID: userID, PasswordHash: hash})
		if err != nil {
			return fmt.Errorf("update password: %w", err)
		}
		if n == 0 {
			return ErrNotFound
		}
		if err := q.DeleteUserTokens(ctx, userID); err != nil {
			return fmt.Errorf("revoke tokens: %w", err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	s.ForgetTokens(userID)
	if s.cfg.TokensRevoked != nil {
		s.cfg.TokensRevoked(userID)
	}
	return nil
}

// Suspend ends userID's sessions and keeps it from logging in again: a
// report resolved by banning the user. Suspending twice changes nothing.
func (s *Service) Suspend(ctx context.Context, userID uint64) error {
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		q := s.q.WithTx(tx)
		if _, err := q.Suspend(ctx, userID); err != nil {
			return fmt.Errorf("suspend: %w", err)
		}
		if err := q.DeleteUserTokens(ctx, userID); err != nil {
			return fmt.Errorf("revoke tokens: %w", err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	s.ForgetTokens(userID)
	if s.cfg.TokensRevoked != nil {
		s.cfg.TokensRevoked(userID)
	}
	return nil
}

// checkPassword requires password to be u's, counted like a login.
func (s *Service) checkPassword(ctx context.Context, u db.UsersUser, password string) error {
	address := addressOf(ctx)
	attempt, err := s.reserveAttempt(ctx, u.NicknameFolded, address)
	if err != nil {
		return err
	}
	match, err := s.comparePassword(ctx, password, u.PasswordHash)
	if err != nil {
		s.forgetAttempt(attempt)
		return err
	}
	if !match {
		return ErrWrongOldPassword
	}
	return s.q.ForgetLoginFailures(ctx, db.ForgetLoginFailuresParams{NicknameFolded: u.NicknameFolded, Address: address})
}

// ForgetTokens drops the user's cached tokens, so the next use of one is
// checked against the database: for revocations made on another node.
func (s *Service) ForgetTokens(userID uint64) { s.authCache.forget(userID) }

func (s *Service) UpdateAvatar(ctx context.Context, userID uint64, url string) error {
	n, err := s.q.UpdateAvatar(ctx, db.UpdateAvatarParams{ID: userID, AvatarUrl: url})
	if err != nil {
		return fmt.Errorf("update avatar: %w", err)
	}
	if n == 0 {
		return ErrNotFound
	}
	return nil
}

// SetAdmin gives or takes the admin role.
func (s *Service) SetAdmin(ctx context.Context, nickname string, admin bool) error {
	n, err := s.q.SetAdmin(ctx, db.SetAdminParams{NicknameFolded: textsearch.Fold(nickname), IsAdmin: admin})
	if err != nil {
		return fmt.Errorf("set admin: %w", err)
	}
	if n == 0 {
		return ErrNotFound
	}
	return nil
}
