package migrations

// FillNicknameSkeletons is the users line's migration 6, for its test.
var FillNicknameSkeletons = fillNicknameSkeletons
