// Extra bundler rules merged into the JupyterLab extension build (Rspack): TypeScript through
// Rspack's built-in SWC, and Svelte 5 components with their CSS injected by the component.
module.exports = {
  module: {
    rules: [
      {
        test: /\.ts$/,
        exclude: [/node_modules/, /\.svelte\.ts$/],
        loader: 'builtin:swc-loader',
        options: { jsc: { parser: { syntax: 'typescript' }, target: 'es2020' } },
        type: 'javascript/auto',
      },
      {
        // Our modules with runes (.svelte.ts): types stripped by SWC, then Svelte's compiler.
        test: /\.svelte\.ts$/,
        exclude: /node_modules/,
        use: [
          { loader: 'svelte-loader', options: { emitCss: false } },
          {
            loader: 'builtin:swc-loader',
            options: { jsc: { parser: { syntax: 'typescript' }, target: 'es2020' } },
          },
        ],
        type: 'javascript/auto',
      },
      {
        // Svelte 5 modules with runes (@xyflow/svelte ships them) need the Svelte compiler too.
        test: /\.svelte\.js$/,
        include: /node_modules/,
        // Their compiler warnings are the library's to fix, not ours: keep the build quiet.
        use: { loader: 'svelte-loader', options: { emitCss: false, onwarn: () => undefined } },
      },
      {
        test: /\.svelte$/,
        use: {
          loader: 'svelte-loader',
          options: { emitCss: false, compilerOptions: { css: 'injected' } },
        },
      },
      { test: /node_modules[\\/]svelte[\\/].*\.m?js$/, resolve: { fullySpecified: false } },
    ],
  },
  resolve: {
    extensions: ['.ts', '.svelte', '...'],
    conditionNames: ['svelte', 'browser', '...'],
  },
};
