import { Injectable, Module } from '@nestjs/common';

export type StaffVisibilityCheck = (viewerId: number, subjectUserId: number) => Promise<boolean>;

/**
 * A port for modules the organisations module depends on (certificates, learning) that must ask "may this manager
 * see this person's learning?" without importing it: the organisations module plugs its answer in when it starts.
 * True only when the viewer manages an organisation the person is an active member of.
 */
@Injectable()
export class StaffVisibility {
  private check: StaffVisibilityCheck | null = null;

  /** Called once, by the organisations module. */
  use(check: StaffVisibilityCheck): void {
    this.check = check;
  }

  managerMaySee(viewerId: number, subjectUserId: number): Promise<boolean> {
    if (!this.check) throw new Error('No organisations module has registered with StaffVisibility');
    return this.check(viewerId, subjectUserId);
  }
}

@Module({ providers: [StaffVisibility], exports: [StaffVisibility] })
export class StaffVisibilityModule {}
