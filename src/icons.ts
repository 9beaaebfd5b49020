import { LabIcon } from '@jupyterlab/ui-components';

// Three nodes joined as a small pipeline.
const svg = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24" width="16" height="16">
  <g class="jp-icon3" fill="#616161">
    <rect x="2" y="3" width="8" height="5" rx="1.5"/>
    <rect x="14" y="9.5" width="8" height="5" rx="1.5"/>
    <rect x="2" y="16" width="8" height="5" rx="1.5"/>
    <path d="M10 5.5h2.5a1.5 1.5 0 0 1 1.5 1.5v5h-1.5V7H10zM10 18.5h3V12h1.5v6.5a1.5 1.5 0 0 1-1.5 1.5H10z"/>
  </g>
</svg>`;

export const fusionpipeIcon = new LabIcon({ name: 'fusionpipe:logo', svgstr: svg });
