package store

// Queries are the store's statements by name, for the plan checks.
var Queries = map[string]string{
	"prepareInsert": prepareInsertSQL,
	"prepareSelect": prepareSelectSQL,
	"steal":         stealSQL,
	"outcome":       outcomeSQL,
	"held":          heldSQL,
	"lookup":        lookupSQL,
	"siblings":      siblingsSQL,
	"receiptUpdate": receiptUpdateSQL,
	"hold":          holdSQL,
	"expire":        expireSQL,
	"purge":         purgeSQL,
}
