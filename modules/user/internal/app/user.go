package app

import (
	"time"

	"github.com/parley-im/parley/modules/user/internal/db"
)

// User is an account as the module answers it: its credentials never
// leave the store.
type User struct {
	ID       uint64
	Nickname string
	Gender   int16
	// AvatarURL is as stored: a media reference or an outside URL.
	AvatarURL            string
	Extra                string
	CreatedAt, UpdatedAt time.Time
	DeletedAt            *time.Time
}

// userOf is a stored user as the module answers it.
func userOf(u db.UsersUser) User {
	return User{
		ID: u.ID, Nickname: u.Nickname, Gender: u.Gender, AvatarURL: u.AvatarUrl, Extra: u.Extra,
		CreatedAt: u.CreatedAt, UpdatedAt: u.UpdatedAt, DeletedAt: u.DeletedAt,
	}
}

// usersOf takes the users out of a listing's rows.
func usersOf[R any](rows []R, user func(R) User) []User {
	users := make([]User, len(rows))
	for i, r := range rows {
		users[i] = user(r)
	}
	return users
}
