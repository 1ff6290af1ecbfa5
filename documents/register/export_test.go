package register

// CMSMargin is cmsMargin, for tests of the room a seal's CMS is given.
const CMSMargin = cmsMargin

// ShrinkLearnedCMS makes every learned CMS size n bytes, as if the seals'
// last CMSs had been that small (a TSA whose token then grew).
func ShrinkLearnedCMS(n int) {
	learnedCMS.mu.Lock()
	defer learnedCMS.mu.Unlock()
	for k := range learnedCMS.last {
		learnedCMS.last[k] = n
	}
}
