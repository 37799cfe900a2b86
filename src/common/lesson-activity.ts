import { Injectable, Module } from '@nestjs/common';

/** How many learners have progress in a set of lessons: started (any progress), and finished at least one. */
export interface LessonActivity {
  learners: number;
  completed: number;
}

export type LessonActivityCounter = (lessonIds: number[]) => Promise<LessonActivity>;

/**
 * A port for authoring, which must say what deleting lessons would take from learners. Learning depends on the
 * catalogue, so the catalogue cannot import it; both import this small module, and the learning module plugs
 * its count in when it starts (as the certificates module does with the CertificateDirectory).
 */
@Injectable()
export class LessonActivityDirectory {
  private counter: LessonActivityCounter | null = null;

  /** Called once, by the learning module. */
  use(counter: LessonActivityCounter): void {
    this.counter = counter;
  }

  count(lessonIds: number[]): Promise<LessonActivity> {
    if (!lessonIds.length) return Promise.resolve({ learners: 0, completed: 0 });
    if (!this.counter) throw new Error('No learning module has registered with the LessonActivityDirectory');
    return this.counter(lessonIds);
  }
}

@Module({ providers: [LessonActivityDirectory], exports: [LessonActivityDirectory] })
export class LessonActivityDirectoryModule {}
