// Renders a template of the table (templates.ts) into subject, HTML and
// plain text with Handlebars. Two private environments: the HTML one escapes
// every value (names, event names and venues are user-provided), the text
// one does not (there is no markup to break). Both are strict, so a field a
// template uses but the data lacks is an error, not a silent blank. Files
// whose names start with `_` are partials (`_layout.html.hbs` → `layout`).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Handlebars from 'handlebars';
import { formatMoney, formatWhen, type MailData } from './mail-data.js';
import { templates, TEMPLATE_NAMES, type TemplateName } from './templates.js';

// Compiled code runs from dist/actors/mailer; the template files stay in the source tree.
export const TEMPLATE_DIR = fileURLToPath(new URL('../../../actors/mailer/templates', import.meta.url));

export interface RenderedMail {
  subject: string;
  html: string;
  text: string;
}

type Compiled = Handlebars.TemplateDelegate<MailData>;
type Flavour = 'html' | 'txt';

function environment(): typeof Handlebars {
  const env = Handlebars.create();
  env.registerHelper('when', (iso: string) => formatWhen(iso));
  env.registerHelper('money', (minor: number, currency: string) => formatMoney(minor, currency));
  env.registerHelper('plural', (count: number, one: string, many: string) => (count === 1 ? one : many));
  return env;
}

export class Renderer {
  private constructor(
    private readonly compiled: ReadonlyMap<TemplateName, { subject: Compiled; html: Compiled; txt: Compiled }>,
  ) {}

  /** Reads and compiles every template once; a missing or broken file stops start-up. */
  static load(dir = TEMPLATE_DIR): Renderer {
    const files = readdirSync(dir);
    const envs: Record<Flavour, typeof Handlebars> = { html: environment(), txt: environment() };
    const options = (flavour: Flavour) => ({ strict: true, noEscape: flavour === 'txt' });
    const compile = (flavour: Flavour, file: string) =>
      envs[flavour].compile<MailData>(readFileSync(join(dir, file), 'utf8'), options(flavour));
    for (const flavour of ['html', 'txt'] as const) {
      for (const file of files.filter((f) => f.startsWith('_') && f.endsWith(`.${flavour}.hbs`))) {
        envs[flavour].registerPartial(file.slice(1, -`.${flavour}.hbs`.length), compile(flavour, file));
      }
    }
    const compiled = new Map(
      TEMPLATE_NAMES.map((name) => {
        for (const flavour of ['html', 'txt'] as const) {
          if (!files.includes(`${name}.${flavour}.hbs`))
            throw new Error(`mail template ${name} has no ${name}.${flavour}.hbs in ${dir}`);
        }
        return [
          name,
          {
            subject: envs.txt.compile<MailData>(templates[name].subject, options('txt')),
            html: compile('html', `${name}.html.hbs`),
            txt: compile('txt', `${name}.txt.hbs`),
          },
        ] as const;
      }),
    );
    return new Renderer(compiled);
  }

  render(name: TemplateName, data: MailData): RenderedMail {
    const template = this.compiled.get(name);
    if (!template) throw new Error(`no mail template ${name}`);
    return {
      // One line, whatever an event name holds.
      subject: template.subject(data).replace(/\s+/g, ' ').trim(),
      html: template.html(data),
      text: template.txt(data).replace(/\n{3,}/g, '\n\n'),
    };
  }

  preview(name: TemplateName): RenderedMail {
    return this.render(name, templates[name].sample);
  }
}
