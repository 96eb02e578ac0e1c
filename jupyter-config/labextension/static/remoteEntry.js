/* The book in JupyterLab, as a student expects it: a JupyterLab front-end plugin, written by hand.
 *
 * Installed by `pip install -e .` into share/jupyter/labextensions/vae-tutorial (pyproject.toml),
 * beside the settings in jupyter-config/overrides.d. It needs no build step: this file is a module
 * container as JupyterLab loads one (window._JUPYTERLAB[name].init/get), its one module exports the
 * plugin, and the plugin uses only the application object (no shared packages). What it does:
 *
 * 1. A Markdown file opens as what it is. A book page (a .md file in a folder named `book`: the
 *    landing page, Notation, Results, Where next, Bibliography, which have no notebook front matter)
 *    opens as a rendered page ("Markdown Preview"), by double-click and by link. Any other .md file
 *    (a chapter) opens as a notebook with JupyterLab's own "Notebook" viewer, the one JupyterLab
 *    restores open notebooks with after a reload: one viewer, so a reload brings one tab back, and
 *    the notebook settings (kernelShutdown in overrides.d) apply to the chapters.
 * 2. The book's pages link to the chapters as ../notebooks/NN_name.md (the site's layout). JupyterLab
 *    serves the notebooks folder itself, where that resolves to notebooks/NN_name.md, a path that
 *    does not exist: a link into a folder named like the served folder, which the served folder does
 *    not contain, opens the file in the served folder.
 * 3. A chapter is "modified" when what its file holds changes, and only then. A chapter is a text
 *    notebook: its file holds each cell's type, source and metadata and the notebook's kernelspec,
 *    never outputs, execution counts or the kernel's language_info. JupyterLab marks it modified when
 *    its kernel starts (language_info) and at every Run All (outputs), so closing an untouched chapter
 *    asked to save, and autosave rewrote the file unchanged. The plugin keeps a snapshot of what the
 *    file holds, taken when it is opened and at each save, and clears "modified" while the notebook
 *    matches it. Folding or unfolding a cell (the `jupyter` view metadata) counts as reading, not
 *    writing; it is written only with a real change.
 * 4. A figure's alt text (its code cell's `alt` metadata, the :alt: option the site puts on the
 *    image) is put on the images the cell outputs, for a screen reader.
 * 5. Equations carry the site's numbers. jupyterlab-myst numbers a notebook's labelled equations
 *    (1), (2), ... and its references to them the same; the site numbers them (N.M) in chapter N, and
 *    the chapters' links to other chapters' equations say (N.M). In a chapter (a file named NN_*.md)
 *    each equation's number and each reference to it is shown as (N.M). The text node is changed in
 *    place, so jupyterlab-myst's own later updates of it still land (and are renumbered again). Items
 *    4 and 5 run on a timer after the page changes, not on the next animation frame, which a browser
 *    may hold back (a hidden or busy page): CI once saw chapter 12's references left unnumbered.
 * 6. A link to another chapter's equation lands on it. The chapters link (N.M) as
 *    NN_name.md#equation-<label>, the id the site gives the equation; JupyterLab looks such a fragment
 *    up among element ids, which jupyterlab-myst's equations do not carry, and gave up, leaving the
 *    reader at the top of the chapter. Once the chapter has rendered, the plugin scrolls the equation
 *    whose link reads #<label> to the middle of the view.
 */
(function () {
  'use strict';

  const PAGE_FACTORY = 'Markdown Preview';
  const NOTEBOOK_FACTORY = 'Notebook';
  const LINK_COMMAND = 'rendermime:handle-local-link';

  function isMarkdown(path) {
    return /\.(md|markdown)$/i.test(path || '');
  }

  function isBookPage(path) {
    const parts = (path || '').split('/');
    return isMarkdown(path) && parts.length >= 2 && parts[parts.length - 2] === 'book';
  }

  /** 1. The viewer a Markdown file opens with, by double-click, by link, from a URL or after a reload. */
  function chooseViewers(registry) {
    const preferred = registry.preferredWidgetFactories.bind(registry);
    const renderedDefault = registry.defaultRenderedWidgetFactory.bind(registry);
    const choice = path => {
      if (!isMarkdown(path)) return undefined;
      return registry.getWidgetFactory(isBookPage(path) ? PAGE_FACTORY : NOTEBOOK_FACTORY);
    };
    registry.preferredWidgetFactories = path => {
      const factories = preferred(path);
      const chosen = choice(path);
      return chosen ? [chosen, ...factories.filter(f => f !== chosen)] : factories;
    };
    registry.defaultWidgetFactory = path => (path ? registry.preferredWidgetFactories(path)[0] : undefined)
      || registry.getWidgetFactory('Editor');
    registry.defaultRenderedWidgetFactory = path => choice(path) || renderedDefault(path);
  }

  /** 2. Links from the book's pages into the served folder by its own name. */
  function followLinksIntoTheServedFolder(app) {
    const config = document.getElementById('jupyter-config-data');
    const root = config ? (JSON.parse(config.textContent).serverRoot || '') : '';
    const name = root.replace(/[\\/]+$/, '').split(/[\\/]/).pop();
    if (!name) return;
    let holdsItsName;  // does the served folder hold an entry of its own name? asked once
    const contents = app.serviceManager.contents;
    const commands = app.commands;
    const execute = commands.execute.bind(commands);
    commands.execute = (id, args) => {
      const path = args && args.path;
      if (id !== LINK_COMMAND || typeof path !== 'string' || !path.startsWith(name + '/')) return execute(id, args);
      holdsItsName = holdsItsName || contents.get('', {content: true})
        .then(listing => listing.content.some(item => item.name === name), () => true);
      return holdsItsName.then(holds => execute(id, holds ? args : {...args, path: path.slice(name.length + 1)}));
    };
  }

  /** 6. A link's #equation-<label> scrolls to that equation once the chapter has rendered. */
  function landOnLinkedEquations(app) {
    const commands = app.commands;
    const execute = commands.execute.bind(commands);
    commands.execute = (id, args) => {
      const result = execute(id, args);
      const found = id === LINK_COMMAND && args && /^#equation-(.+)$/.exec(args.id || '');
      if (!found) return result;
      const anchor = `a[title="Link to this Equation"][href="#${CSS.escape(found[1])}"]`;
      return Promise.resolve(result).then(value => {
        const started = Date.now();
        (function look() {  // jupyterlab-myst renders the cells after the notebook is ready
          const widget = app.shell.currentWidget;
          const link = widget && widget.node.querySelector(anchor);
          if (link) {
            (link.closest('.katex-display') || link.parentElement).scrollIntoView({block: 'center'});
          } else if (Date.now() - started < 30000) {
            setTimeout(look, 250);
          }
        })();
        return value;
      });
    };
  }

  /** 3. A text notebook is modified when what its file holds changes. */
  const UNSTORED_CELL_METADATA = [  // jupytext does not write the first six; notebooks/jupytext.toml filters
    'collapsed', 'scrolled', 'autoscroll', 'trusted', 'execution', 'ExecuteTime',  // out jupyterlab-myst's
    'user_expressions',  // {eval} results; and `jupyter` holds the fold, a reader's view of the cell
    'jupyter'];

  function whatTheFileHolds(model) {
    const cells = [];
    for (let i = 0; i < model.cells.length; i++) {
      const cell = model.cells.get(i);
      const metadata = {...cell.metadata};
      UNSTORED_CELL_METADATA.forEach(key => { delete metadata[key]; });
      cells.push([cell.type, cell.sharedModel.getSource(), metadata]);
    }
    const notebook = {...model.metadata};
    delete notebook.language_info;
    return JSON.stringify([cells, notebook]);
  }

  function modifiedOnlyByChanges(context) {
    if (!isMarkdown(context.path)) return;
    context.ready.then(() => {
      const model = context.model;
      let saved = whatTheFileHolds(model);
      context.fileChanged.connect(() => { saved = whatTheFileHolds(model); });  // after each save or revert
      let pending = false;
      const check = () => {
        pending = false;
        if (model.isDisposed || !model.dirty) return;
        if (whatTheFileHolds(model) === saved) model.dirty = false;
      };
      const later = () => {  // once the change has reached every listener, and at most once a frame
        if (!pending) { pending = true; setTimeout(check, 0); }
      };
      model.stateChanged.connect((_, change) => { if (change.name === 'dirty' && change.newValue) later(); });
      model.contentChanged.connect(() => { if (model.dirty) later(); });
    }).catch(() => undefined);
  }

  /** 4. The alt text of a cell's figure on the images it outputs. */
  function describeImages(panel) {
    let pending = false;
    const apply = () => {
      pending = false;
      const notebook = panel.content;
      if (!notebook || notebook.isDisposed) return;
      for (const cell of notebook.widgets) {
        const alt = cell.model.type === 'code' ? cell.model.getMetadata('alt') : undefined;
        if (typeof alt !== 'string' || !cell.outputArea) continue;
        cell.outputArea.node.querySelectorAll('img').forEach(image => {
          if (image.alt !== alt.trim()) image.alt = alt.trim();
        });
      }
    };
    const observer = new MutationObserver(() => {
      if (!pending) { pending = true; setTimeout(apply, 50); }  // a timer runs where a frame may never come
    });
    observer.observe(panel.node, {childList: true, subtree: true});
    panel.disposed.connect(() => observer.disconnect());
  }

  /** 5. (M) -> (N.M) on chapter N's equation numbers and on its references to them. */
  function numberEquationsByChapter(panel, context) {
    const found = /(?:^|\/)(\d+)_[^/]*\.md$/i.exec(context.path || '');
    if (!found) return;
    const chapter = String(parseInt(found[1], 10));
    const renumber = link => {  // React may hold "(1)" as one text node, as "(", "1", ")", with spaces around
      if (!/^\s*\(\d+\)\s*$/.test(link.textContent)) return;  // or in an element: the text node with the digits
      const walker = document.createTreeWalker(link, NodeFilter.SHOW_TEXT);
      for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        if (/\d/.test(node.data)) { node.data = node.data.replace(/\d+/, number => chapter + '.' + number); return; }
      }
    };
    const apply = () => {
      if (panel.isDisposed) return;
      const labels = new Set();
      panel.node.querySelectorAll('.jp-MarkdownCell .myst a[title="Link to this Equation"]').forEach(link => {
        labels.add(link.getAttribute('href'));
        renumber(link);
      });
      panel.node.querySelectorAll('.jp-MarkdownCell .myst a.hover-link').forEach(link => {
        if (labels.has(link.getAttribute('href'))) renumber(link);
      });
    };
    // Renumbered in the observer's own callback, a microtask that runs after React's commit and before the
    // page is painted or any other task reads it: with a timer, each redraw of a cell showed its references
    // as (M) for 50 ms, and a reader or a test could catch them so (CI, December 2026). Renumbering is
    // idempotent, so the mutations it makes itself end in a call that changes nothing.
    const observer = new MutationObserver(() => apply());
    observer.observe(panel.node, {childList: true, subtree: true, characterData: true});
    // and every 2 s while the chapter first renders, in case a change reached the page unobserved
    const sweep = setInterval(() => { if (!panel.isDisposed) apply(); }, 2000);
    setTimeout(() => clearInterval(sweep), 180000);
    panel.disposed.connect(() => { observer.disconnect(); clearInterval(sweep); });
  }

  const notebookExtension = {
    createNew(panel, context) {
      modifiedOnlyByChanges(context);
      describeImages(panel);
      numberEquationsByChapter(panel, context);
    }
  };

  const plugin = {
    id: 'vae-tutorial:book',
    description: 'The book in JupyterLab: pages as pages, chapters as notebooks, no false "modified".',
    autoStart: true,
    activate(app) {
      const registry = app.docRegistry;
      chooseViewers(registry);
      followLinksIntoTheServedFolder(app);
      landOnLinkedEquations(app);
      registry.addWidgetExtension(NOTEBOOK_FACTORY, notebookExtension);  // jupytext copies it to its viewer
    }
  };

  const module = {__esModule: true, default: [plugin]};
  const containers = window._JUPYTERLAB = window._JUPYTERLAB || {};
  containers['vae-tutorial'] = {
    init: () => Promise.resolve(),
    get: request => (request === './extension'
      ? Promise.resolve(() => module)
      : Promise.reject(new Error('vae-tutorial has no module ' + request)))
  };
})();
