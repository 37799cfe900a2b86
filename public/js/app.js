import { initAll } from '/assets/nhsuk/nhsuk-frontend.min.js';

initAll();
