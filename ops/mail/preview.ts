// Renders one mail template with its sample data, without a running system:
//   node dist/ops/mail/preview.js booking-confirmed --format html > /tmp/mail.html
import { Renderer } from '../../actors/mailer/render.js';
import { isTemplateName, templates, TEMPLATE_NAMES } from '../../actors/mailer/templates.js';

const FORMATS = ['html', 'text', 'subject'] as const;
type Format = (typeof FORMATS)[number];

const usage = `usage: node dist/ops/mail/preview.js <template> [--format html|text|subject]

Prints the template rendered with its sample data (default: the HTML part).
Templates:
${TEMPLATE_NAMES.map((name) => `  ${name.padEnd(18)} ${templates[name].about}`).join('\n')}`;

const args = process.argv.slice(2);
if (args.includes('--help') || args.includes('-h')) {
  console.log(usage);
  process.exit(0);
}
const formatAt = args.indexOf('--format');
const format = (formatAt >= 0 ? args[formatAt + 1] : 'html') as Format;
const name = args.find((a, i) => !a.startsWith('--') && (formatAt < 0 || i !== formatAt + 1));
if (!name || !isTemplateName(name) || !FORMATS.includes(format)) {
  console.error(name && !isTemplateName(name) ? `no template "${name}"\n\n${usage}` : usage);
  process.exit(2);
}

const mail = Renderer.load().preview(name);
process.stdout.write(format === 'subject' ? `${mail.subject}\n` : format === 'text' ? mail.text : mail.html);
