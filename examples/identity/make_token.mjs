// Make a madoguchi identity token in a Node.js host app (docs/identity.md). Node 16+, no packages.
//
// In the app, call identityToken(memberId, plan) when rendering a page for a signed-in member
// and put the result on the widget's script tag:
//
//   <script src="https://chat.example.com/widget.js" data-identity="${token}" async></script>
//
// From a shell (the secret from the environment, never from the command line):
//
//   MADOGUCHI_IDENTITY_SECRET=... node make_token.mjs M-1001 pro 30
import { createHmac } from 'node:crypto';
import { fileURLToPath } from 'node:url';

const b64url = (buffer) => Buffer.from(buffer).toString('base64url');

/** `v1.<payload>.<signature>`: who the member is, their plan, and until when it holds. */
export function identityToken(memberId, plan, minutes = 30, secret = process.env.MADOGUCHI_IDENTITY_SECRET) {
  const payload = { sub: memberId, plan, exp: Math.floor(Date.now() / 1000) + minutes * 60 };
  const signed = `v1.${b64url(JSON.stringify(payload))}`;
  const signature = createHmac('sha256', secret).update(signed).digest();
  return `${signed}.${b64url(signature)}`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [memberId, plan, minutes = '30'] = process.argv.slice(2);
  if (!memberId || !plan) {
    console.error('usage: node make_token.mjs MEMBER_ID PLAN [MINUTES]');
    process.exit(1);
  }
  console.log(identityToken(memberId, plan, Number(minutes)));
}
