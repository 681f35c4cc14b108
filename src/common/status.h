/* gemini status codes by name, for capsuled and capsule-check alike: a
 * capsule resolver answers with these, and gopher and finger map them to
 * their own texts. the values are the protocol's, never to be renumbered */
#ifndef STATUS_H
#define STATUS_H

enum gemini_status {
	GEMINI_INPUT = 10,
	GEMINI_SENSITIVE_INPUT = 11,
	GEMINI_SUCCESS = 20,
	GEMINI_REDIRECT_TEMP = 30,
	GEMINI_REDIRECT = 31,		/* permanent: "add a slash" */
	GEMINI_TEMP_FAILURE = 40,
	GEMINI_SERVER_UNAVAILABLE = 41,
	GEMINI_CGI_ERROR = 42,
	GEMINI_PROXY_ERROR = 43,
	GEMINI_SLOW_DOWN = 44,
	GEMINI_PERM_FAILURE = 50,
	GEMINI_NOT_FOUND = 51,
	GEMINI_GONE = 52,
	GEMINI_PROXY_REFUSED = 53,
	GEMINI_BAD_REQUEST = 59,
	GEMINI_CERT_REQUIRED = 60,
	GEMINI_CERT_NOT_AUTHORISED = 61,
	GEMINI_CERT_NOT_VALID = 62
};

#endif
