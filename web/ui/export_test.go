package ui

import "sort"

// MessageKeys lists every message key, for the tests that look for a key
// shown where its text should be (a text nobody translated).
func MessageKeys() []string {
	keys := make([]string, 0, len(messages["vi"]))
	for k := range messages["vi"] {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Messages is a key's Vietnamese and English texts.
func Messages(key string) (vi, en string) { return messages["vi"][key], messages["en"][key] }
