// Tells nhsuk-frontend's CSS that JavaScript runs, before the page paints (the design system's usual inline snippet, kept external for the CSP).
document.body.className += ' js-enabled' + ('noModule' in HTMLScriptElement.prototype ? ' nhsuk-frontend-supported' : '');
