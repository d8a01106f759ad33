// Kauko in a Primo NDE customisation package built with Ex Libris'
// official customModule (github.com/ExLibrisGroup/customModule), for views
// whose NDE maps slots only to Angular components. Copy this file to
// src/app/custom1-module/kauko/kauko-slot.component.ts, then in
// src/app/custom1-module/customComponentMappings.ts add:
//
//   import { KaukoSlotComponent } from './kauko/kauko-slot.component';
//   ['nde-full-display-service-container-after', KaukoSlotComponent],
//   ['nde-account-overview-after', KaukoSlotComponent],
//
// and set KAUKO below. The component only loads Kauko's add-on
// (/widgets/kauko-primo-nde.js) and hands it the slot and the host
// component; everything else is Kauko's framework-free code. This file is
// a reference: Kauko's own build does not compile it (README, "Kauko in
// Primo", says what is tested).
import { Component, ElementRef, Input, OnInit } from '@angular/core';

const KAUKO = 'https://kauko.example.fi';
const PARAMETERS = { kaukoUrl: KAUKO, show: 'unavailable', showFor: [] as string[] };

declare global {
  interface Window {
    kaukoPrimo?: { init(scope: unknown): Promise<void>; get(module: string): Promise<() => KaukoAddon> };
  }
}
interface KaukoAddon {
  mount(slot: string, element: HTMLElement, context: unknown): Promise<unknown>;
}

let loading: Promise<KaukoAddon> | null = null;
function addon(): Promise<KaukoAddon> {
  loading ??= new Promise<void>((resolve, reject) => {
    if (window.kaukoPrimo) return resolve();
    const s = document.createElement('script');
    s.src = `${KAUKO}/widgets/kauko-primo-nde.js`;
    s.onload = () => resolve();
    s.onerror = () => reject(new Error('Kauko unreachable'));
    document.head.appendChild(s);
  })
    .then(() => window.kaukoPrimo!.init({}))
    .then(() => window.kaukoPrimo!.get('./KaukoAddon'))
    .then((factory) => factory());
  return loading;
}

@Component({ selector: 'kauko-slot', standalone: true, template: '' })
export class KaukoSlotComponent implements OnInit {
  @Input() hostComponent: unknown;
  constructor(private element: ElementRef<HTMLElement>) {}

  ngOnInit(): void {
    // NDE names the slot's element after the slot (possibly with
    // "-from-remote-<n>" added).
    const host = this.element.nativeElement.parentElement;
    const slot = (host?.tagName.toLowerCase() ?? '').replace(/-from-remote-\d+$/, '');
    addon()
      .then((a) => a.mount(slot, this.element.nativeElement, { hostComponent: this.hostComponent, moduleParameters: PARAMETERS }))
      .catch(() => {
        const link = document.createElement('a');
        link.href = `${KAUKO}/my`;
        link.textContent = 'Open Kauko';
        this.element.nativeElement.appendChild(link);
      });
  }
}
