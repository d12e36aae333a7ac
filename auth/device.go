package auth

import "strings"

// Device names the browser and system of a User-Agent for a person reading
// their session list ("Firefox on Linux"); what it cannot tell, it leaves
// out, and an empty agent is "unknown device". It is a label, never a check.
func Device(userAgent string) string {
	browser := firstMatch(userAgent, browsers)
	system := firstMatch(userAgent, systems)
	switch {
	case browser != "" && system != "":
		return browser + " on " + system
	case browser != "":
		return browser
	case system != "":
		return system
	case userAgent != "":
		name, _, _ := strings.Cut(userAgent, " ")
		return name
	}
	return "unknown device"
}

// browsers and systems are matched in order: Edge and Opera announce
// Chrome, Chrome announces Safari, Android announces Linux.
var (
	browsers = [][2]string{{"Edg/", "Edge"}, {"OPR/", "Opera"}, {"Firefox/", "Firefox"}, {"Chrome/", "Chrome"},
		{"Safari/", "Safari"}, {"curl/", "curl"}, {"python-requests", "Python"}, {"Go-http-client", "Go"}}
	systems = [][2]string{{"Android", "Android"}, {"iPhone", "iOS"}, {"iPad", "iPadOS"}, {"Windows", "Windows"},
		{"Mac OS X", "macOS"}, {"CrOS", "ChromeOS"}, {"Linux", "Linux"}}
)

func firstMatch(s string, table [][2]string) string {
	for _, m := range table {
		if strings.Contains(s, m[0]) {
			return m[1]
		}
	}
	return ""
}
