/* the header fields a list puts on a post, and which of a post's own it
 * replaces; the text buffer list mail is written into */
#include <string.h>

#include "conf_mlist.h"
#include "list_mail.h"
#include "unit.h"

int
main(void)
{
	char *owners[] = { "rachelle.stevens@rmet.org", "bob@rmet.org" };
	struct conf_list l;
	struct list_text t = { .len = 0 };
	char buf[4096], small[64], big[9000];

	memset(&l, 0, sizeof(l));
	l.address = "partners@rmet.org";
	l.request = "partners-request@rmet.org";
	l.name = "Teaching school partners";
	l.list_id = "partners.rmet.org";
	l.owners = owners;
	l.nowners = 2;
	l.unsubscribe_url = "";

	/* 1. rfc 2369 / 2919: one unfolded line each */
	CHECK(list_mail_headers(&l, buf, sizeof(buf)) == 0, "list fields");
	CHECK_STR(buf,
	    "List-Id: Teaching school partners <partners.rmet.org>\n"
	    "List-Post: <mailto:partners@rmet.org>\n"
	    "List-Help: <mailto:partners-request@rmet.org?subject=help>\n"
	    "List-Subscribe: <mailto:partners-request@rmet.org?subject="
	    "subscribe>\n"
	    "List-Unsubscribe: <mailto:partners-request@rmet.org?subject="
	    "unsubscribe>\n"
	    "List-Owner: <mailto:rachelle.stevens@rmet.org>, "
	    "<mailto:bob@rmet.org>\n"
	    "Precedence: list\n", "the fields of a plain list");

	/* 2. rfc 8058 one-click, Reply-To, an 8-bit name encoded */
	l.unsubscribe_url = "https://rmet.org/u";
	l.reply_to_list = 1;
	l.name = "Partenaires \xc3\xa9" "coles";
	l.nowners = 0;
	CHECK(list_mail_headers(&l, buf, sizeof(buf)) == 0, "list fields, "
	    "one-click and reply-to");
	CHECK(strstr(buf, "List-Unsubscribe: <https://rmet.org/u>, "
	    "<mailto:partners-request@rmet.org?subject=unsubscribe>\n"
	    "List-Unsubscribe-Post: List-Unsubscribe=One-Click\n") != NULL,
	    "one-click unsubscribe (rfc 8058)");
	CHECK(strstr(buf, "\nReply-To: <partners@rmet.org>\n") != NULL,
	    "reply-to = list: Reply-To the list");
	CHECK(strncmp(buf, "List-Id: =?UTF-8?", 17) == 0 &&
	    strstr(buf, "?= <partners.rmet.org>\n") != NULL &&
	    strchr(buf, '\xc3') == NULL, "an 8-bit list name encoded");
	CHECK(strstr(buf, "List-Owner") == NULL, "no owners: no List-Owner");
	CHECK(list_mail_headers(&l, small, sizeof(small)) == -1,
	    "fields too long for the buffer: an error, not cut");

	/* 3. what a post's own fields give way to */
	CHECK(list_mail_is_replaced("list-id: <x>", 7, 0), "List-Id, any "
	    "case");
	CHECK(list_mail_is_replaced("Precedence: bulk", 10, 0),
	    "Precedence");
	CHECK(!list_mail_is_replaced("Reply-To: <a@b>", 8, 0),
	    "Reply-To kept when the list does not set it");
	CHECK(list_mail_is_replaced("Reply-To: <a@b>", 8, 1),
	    "Reply-To replaced when the list sets it");
	CHECK(!list_mail_is_replaced("List-Idx: 1", 8, 1),
	    "a longer name is another field");
	CHECK(!list_mail_is_replaced("Subject: hi", 7, 1), "Subject kept");

	/* 4. the text buffer: appends, then over once full */
	list_text_add(&t, "one %d\n", 1);
	list_text_add(&t, "two\n");
	CHECK(t.len == 10 && !t.over && strcmp(t.buf, "one 1\ntwo\n") == 0,
	    "text appended");
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	list_text_add(&t, "%s", big);
	CHECK(t.over && t.len == 10, "a text over the buffer: marked, not "
	    "cut in");
	return UNIT_DONE();
}
