/* web/static.c: the stylesheet, compiled in (no data files at run time) and
 * served at /static/skarbnica.css with a long cache; pages link it with
 * ?v=DIGEST so a new build is fetched at once. No inline style anywhere:
 * the CSP allows style-src 'self' only.
 *
 * Colours (contrast on their background, WCAG 2.1 AA needs 4.5:1):
 * text #1b1b1b on #fff 17:1; links #0b4f8a on #fff 8.6:1; muted #4b4b4b on
 * #fff 8.9:1 and on #f3f5f7 8.1:1; header #fff on #12395c 12:1; focus ring
 * #ffbf00 on #12395c and a dark ring on light backgrounds. */
#include "web/private.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

const char sk_web_css[] =
    "*,*::before,*::after{box-sizing:border-box}\n"
    "html{font-size:100%;-webkit-text-size-adjust:100%}\n"
    "body{margin:0;font-family:system-ui,-apple-system,'Segoe UI',"
    "Roboto,'Noto Sans','Liberation Sans',Arial,sans-serif;"
    "line-height:1.5;color:#1b1b1b;background:#fff}\n"
    ".wrap{max-width:60rem;margin:0 auto;padding:0 1rem}\n"
    "a{color:#0b4f8a;text-decoration:underline;"
    "text-underline-offset:.15em}\n"
    "a:hover{color:#062d50;text-decoration-thickness:.15em}\n"
    "a:focus-visible,button:focus-visible,input:focus-visible,"
    "select:focus-visible,textarea:focus-visible,summary:focus-visible,"
    "main:focus-visible{"
    "outline:3px solid #1b1b1b;outline-offset:2px;"
    "box-shadow:0 0 0 5px #ffbf00}\n"
    "a:focus,button:focus,input:focus,select:focus,textarea:focus,"
    "summary:focus{"
    "outline:3px solid #1b1b1b;outline-offset:2px}\n"
    "main:focus:not(:focus-visible){outline:none}\n"
    ".skip{position:absolute;left:-999rem;top:0;background:#ffbf00;"
    "color:#1b1b1b;padding:.5rem 1rem;z-index:10;font-weight:bold}\n"
    ".skip:focus{left:0}\n"
    "header.site{background:#12395c;color:#fff;padding:.5rem 0}\n"
    "header.site .wrap{display:flex;flex-wrap:wrap;align-items:center;"
    "gap:.5rem 1.5rem}\n"
    "header.site a,header.site button{color:#fff}\n"
    "header.site a:focus,header.site button:focus{outline-color:#ffbf00}\n"
    ".brand{margin:0;font-size:1.25rem;font-weight:bold}\n"
    ".brand a{text-decoration:none}\n"
    ".brand span{display:block;font-size:.875rem;font-weight:normal}\n"
    "header.site nav ul{list-style:none;margin:0;padding:0;display:flex;"
    "flex-wrap:wrap;gap:.25rem 1rem;align-items:center}\n"
    "header.site nav a[aria-current]{font-weight:bold;"
    "text-decoration-thickness:.2em}\n"
    "form.logout{margin:0}\n"
    "form.logout button{background:none;border:1px solid #fff;"
    "border-radius:3px;padding:.2rem .6rem;font:inherit;cursor:pointer}\n"
    ".search-mini{display:flex;flex-wrap:wrap;gap:.25rem;"
    "align-items:center;margin-left:auto}\n"
    ".search-mini label{position:absolute;left:-999rem}\n"
    ".search-mini input{padding:.3rem .5rem;border:1px solid #fff;"
    "border-radius:3px;min-width:0;width:12rem;max-width:100%;font:inherit}\n"
    "header.site .search-mini button{background:#fff;color:#12395c;border:0;"
    "border-radius:3px;padding:.3rem .7rem;font:inherit;cursor:pointer}\n"
    "main{display:block;padding:1rem 0 2rem}\n"
    "h1{font-size:1.75rem;line-height:1.25;margin:.5rem 0 1rem}\n"
    "h2{font-size:1.35rem;margin:1.75rem 0 .5rem}\n"
    "h3{font-size:1.1rem;margin:1rem 0 .25rem}\n"
    "p.lead{font-size:1.1rem}\n"
    ".muted,.meta{color:#4b4b4b}\n"
    ".meta{font-size:.925rem}\n"
    "ul.plain{list-style:none;padding:0;margin:0}\n"
    "ul.threads{list-style:none;padding:0;margin:0}\n"
    "ul.threads>li{padding:.6rem 0;border-bottom:1px solid #d6dbe0}\n"
    "ul.threads h3{margin:0;font-size:1.05rem}\n"
    "ul.topics{list-style:none;padding:0;margin:0;display:grid;"
    "grid-template-columns:repeat(auto-fill,minmax(15rem,1fr));"
    "gap:.25rem 1.5rem}\n"
    "ul.topics li{padding:.25rem 0}\n"
    ".stats{display:flex;flex-wrap:wrap;gap:.5rem 2rem;padding:0;"
    "list-style:none}\n"
    ".stats strong{font-size:1.25rem}\n"
    "form.search{display:flex;flex-wrap:wrap;gap:.5rem;align-items:flex-end;"
    "margin:0 0 1rem}\n"
    "form.search .field{flex:1 1 16rem;display:flex;flex-direction:column}\n"
    "form.search label,form.login label{font-weight:bold}\n"
    "input[type=search],input[type=email],input[type=password],select{"
    "font:inherit;padding:.45rem .6rem;border:2px solid #4b4b4b;"
    "border-radius:3px;max-width:100%;background:#fff;color:#1b1b1b}\n"
    "button{font:inherit}\n"
    "form.search button,form.login button{background:#12395c;color:#fff;"
    "border:2px solid #12395c;border-radius:3px;padding:.45rem 1.1rem;"
    "cursor:pointer}\n"
    "form.login{display:flex;flex-direction:column;gap:.35rem;"
    "max-width:24rem}\n"
    "form.login button{align-self:flex-start;margin-top:.5rem}\n"
    ".error{border-left:5px solid #b3261e;background:#fdf0ef;"
    "padding:.5rem 1rem;margin:1rem 0}\n"
    ".notice{border-left:5px solid #12395c;background:#f3f5f7;"
    "padding:.5rem 1rem;margin:1rem 0}\n"
    ".visually-hidden{position:absolute!important;width:1px;height:1px;"
    "margin:-1px;padding:0;overflow:hidden;clip:rect(0 0 0 0);"
    "clip-path:inset(50%);white-space:nowrap;border:0}\n"
    "input[type=text],textarea{font:inherit;padding:.45rem .6rem;"
    "border:2px solid #4b4b4b;border-radius:3px;max-width:100%;"
    "background:#fff;color:#1b1b1b}\n"
    "textarea{width:100%;resize:vertical}\n"
    "input[type=file]{font:inherit;max-width:100%}\n"
    "form.note{display:flex;flex-direction:column;gap:.35rem;"
    "max-width:42rem}\n"
    "form.note label,form.note legend{font-weight:bold;margin-top:.5rem}\n"
    "form.note input[type=text]{width:100%}\n"
    "form.note #kwartal{width:8rem}\n"
    "form.note button{align-self:flex-start;margin-top:1rem}\n"
    "form.note ul.checks label{font-weight:normal;margin:0}\n"
    "fieldset.topics{border:1px solid #9aa5b1;border-radius:4px;"
    "margin:.75rem 0 0;padding:.25rem 1rem .75rem}\n"
    "ul.checks{list-style:none;padding:0;margin:0;display:grid;"
    "grid-template-columns:repeat(auto-fill,minmax(16rem,1fr));"
    "gap:.15rem 1.5rem}\n"
    "ul.checks input{width:1.1rem;height:1.1rem;vertical-align:-.15em}\n"
    ".hint{color:#4b4b4b;font-size:.925rem;margin:0}\n"
    ".req{font-weight:normal;color:#4b4b4b;font-size:.925rem}\n"
    ".crumbs{margin:0;font-size:.925rem}\n"
    "main button,a.button{display:inline-block;background:#12395c;"
    "color:#fff;border:2px solid #12395c;border-radius:3px;"
    "padding:.45rem 1.1rem;cursor:pointer;text-decoration:none;"
    "font:inherit;line-height:1.5}\n"
    "a.button:hover{background:#062d50;color:#fff}\n"
    "form.inline{display:inline-flex;flex-wrap:wrap;gap:.35rem;"
    "align-items:center;margin:0}\n"
    "form.inline button{padding:.2rem .7rem}\n"
    "ul.notes{list-style:none;padding:0;margin:0}\n"
    "ul.notes>li{padding:.6rem 0;border-bottom:1px solid #d6dbe0}\n"
    "ul.notes .quarter{font-weight:bold;margin-right:.35rem}\n"
    "ul.notes .meta{margin-right:.5rem}\n"
    ".mail{display:inline-block;font-size:.925rem;margin-right:.5rem}\n"
    ".mail-failed{color:#b3261e;font-weight:bold}\n"
    ".mail-sent{color:#1e6b34}\n"
    "table.subs .sub{padding-left:1.25rem;display:inline-block}\n"
    "table.subs th,table.subs td{overflow-wrap:anywhere;"
    "padding-left:.25rem;padding-right:.25rem}\n"
    "table.subs select{max-width:12rem}\n"
    "form.login h2,form.link-form h2{font-size:1.1rem;margin:1rem 0 0}\n"
    "form.link-form{display:flex;flex-direction:column;gap:.35rem;"
    "max-width:24rem;margin-top:1.5rem;padding-top:.5rem;"
    "border-top:1px solid #d6dbe0}\n"
    "form.link-form label{font-weight:bold}\n"
    "form.link-form button{align-self:flex-start;margin-top:.5rem}\n"
    ".suggest{font-size:1.1rem}\n"
    "mark{background:#fff1a8;color:inherit;padding:0 .1em}\n"
    ".layout{display:grid;grid-template-columns:1fr;gap:1rem 2rem}\n"
    "@media (min-width:48rem){.layout{grid-template-columns:"
    "minmax(0,3fr) minmax(0,1fr)}}\n"
    ".facets h2{font-size:1.05rem;margin-top:1rem}\n"
    ".facets ul{list-style:none;padding:0;margin:0}\n"
    ".facets li{padding:.1rem 0}\n"
    "ol.results{padding-left:1.5rem}\n"
    "ol.results>li{margin:0 0 1rem}\n"
    ".snippet{margin:.25rem 0}\n"
    ".pager ul{list-style:none;padding:0;display:flex;flex-wrap:wrap;"
    "gap:.35rem}\n"
    ".pager a{display:inline-block;padding:.3rem .65rem;"
    "border:1px solid #0b4f8a;border-radius:3px}\n"
    ".pager a[aria-current]{background:#0b4f8a;color:#fff;"
    "font-weight:bold}\n"
    ".pager .gap{padding:.3rem .2rem}\n"
    "article.msg{border:1px solid #d6dbe0;border-radius:4px;"
    "padding:.75rem 1rem;margin:0 0 1rem;background:#fff}\n"
    "article.msg header h2,article.msg header h3{margin:0;"
    "font-size:1.1rem}\n"
    "article.msg header p{margin:.1rem 0}\n"
    ".d1{margin-left:1rem}.d2{margin-left:2rem}.d3{margin-left:3rem}"
    ".d4{margin-left:4rem}.d5,.d6,.d7,.d8{margin-left:5rem}\n"
    "@media (max-width:40rem){.d1{margin-left:.5rem}.d2{margin-left:1rem}"
    ".d3{margin-left:1.5rem}.d4,.d5,.d6,.d7,.d8{margin-left:2rem}}\n"
    ".msg-body .text{white-space:pre-wrap;overflow-wrap:anywhere;"
    "margin:.75rem 0}\n"
    "details.quote{border-left:4px solid #9aa5b1;padding:0 0 0 .75rem;"
    "margin:.5rem 0;color:#333}\n"
    "details.quote summary{cursor:pointer;color:#0b4f8a;"
    "text-decoration:underline}\n"
    "ul.attachments{padding-left:1.25rem}\n"
    "nav.msg-links ul{list-style:none;padding:0;margin:.5rem 0 0;"
    "display:flex;flex-wrap:wrap;gap:.25rem 1rem;font-size:.925rem}\n"
    "dl.headers{display:grid;grid-template-columns:max-content 1fr;"
    "gap:.1rem 1rem;margin:.5rem 0}\n"
    "dl.headers dt{font-weight:bold}\n"
    "dl.headers dd{margin:0;overflow-wrap:anywhere}\n"
    "table{border-collapse:collapse;width:100%}\n"
    "th,td{text-align:left;padding:.35rem .5rem;"
    "border-bottom:1px solid #d6dbe0}\n"
    "code{background:#f3f5f7;padding:0 .2em;border-radius:2px}\n"
    "footer.site{border-top:1px solid #d6dbe0;background:#f3f5f7;"
    "color:#4b4b4b;padding:1rem 0;font-size:.925rem}\n"
    "@media print{header.site,footer.site,.skip,.pager,form{display:none}"
    "details.quote{display:block}}\n";

size_t
sk_web_css_len(void)
{
	return sizeof(sk_web_css) - 1;
}

static char css_version[9];
static pthread_once_t css_once = PTHREAD_ONCE_INIT;

static void
css_digest(void)
{
	uint32_t h = 2166136261u; /* FNV-1a: a cache key, not security */
	for (size_t i = 0; i < sizeof(sk_web_css) - 1; i++) {
		h ^= (unsigned char)sk_web_css[i];
		h *= 16777619u;
	}
	snprintf(css_version, sizeof(css_version), "%08x", h);
}

const char *
sk_web_css_version(void)
{
	pthread_once(&css_once, css_digest);
	return css_version;
}
