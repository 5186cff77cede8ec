/* Entry point of the conclave web client. */
import './ui/styles.css';
import { boot } from './app/boot';

const host = document.getElementById('app');
if (host) boot(host);
