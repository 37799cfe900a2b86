export { WebinarAttendance } from './attendance.entity';
export { WebinarQuestion, WebinarQuestionVote, type QuestionStatus } from './question.entity';
export { WebinarRegistration, type RegistrationStatus } from './registration.entity';
export { Webinar, type WebinarStatus } from './webinar.entity';
