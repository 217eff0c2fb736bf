// Small fixed word lists, so masked names and addresses read like real ones.
// Fixed, not a library's: the same index must give the same word in every
// run and every supasync version, or yesterday's staging would not join
// today's. Append only; never reorder.

// prettier-ignore
export const FIRST_NAMES = [
  'Ana', 'Liam', 'Sofia', 'Noah', 'Emma', 'Mateo', 'Olivia', 'Lucas', 'Mia', 'Hugo',
  'Chloe', 'Leo', 'Isabel', 'Omar', 'Nora', 'Ivan', 'Lea', 'Samuel', 'Julia', 'Diego',
  'Alice', 'Tomas', 'Zoe', 'Elias', 'Maya', 'Felix', 'Clara', 'Rafael', 'Ines', 'Jonas',
  'Lucia', 'Adam', 'Sara', 'Bruno', 'Elena', 'Marco', 'Aisha', 'Kenji', 'Priya', 'Yusuf',
  'Hanna', 'Pablo', 'Greta', 'Arjun', 'Lina', 'Oscar', 'Mila', 'Nico', 'Vera', 'Theo',
];

// prettier-ignore
export const LAST_NAMES = [
  'Garcia', 'Smith', 'Muller', 'Rossi', 'Silva', 'Kim', 'Novak', 'Dubois', 'Jensen', 'Lopez',
  'Brown', 'Costa', 'Nguyen', 'Haddad', 'Ivanova', 'Schmidt', 'Moreau', 'Tanaka', 'Patel', 'Kowalski',
  'Martin', 'Ramos', 'Fischer', 'Berg', 'Santos', 'Okafor', 'Larsen', 'Romero', 'Weber', 'Sato',
  'Ortiz', 'Nielsen', 'Bianchi', 'Vargas', 'Horvat', 'Mendes', 'Quinn', 'Reyes', 'Fontaine', 'Lund',
  'Castro', 'Yilmaz', 'Hughes', 'Petrov', 'Alvarez', 'Wolf', 'Moreno', 'Ito', 'Kaur', 'Suarez',
];

// prettier-ignore
export const STREETS = [
  'Oak', 'Maple', 'Cedar', 'Pine', 'Elm', 'Willow', 'Harbor', 'Mill', 'Park', 'Lake',
  'River', 'Hill', 'Station', 'Church', 'Garden', 'Forest', 'Meadow', 'Bridge', 'Spring', 'Sunset',
];

// prettier-ignore
export const STREET_KINDS = ['Street', 'Avenue', 'Road', 'Lane', 'Way', 'Drive', 'Court', 'Place'];

// prettier-ignore
export const CITIES = [
  'Springfield', 'Riverton', 'Lakeside', 'Fairview', 'Greenville', 'Kingston', 'Milford', 'Ashford', 'Bayview', 'Westbrook',
  'Northgate', 'Elmstead', 'Brookfield', 'Clearwater', 'Hillcrest', 'Oakridge', 'Stonebridge', 'Marlow', 'Easton', 'Redwood',
];

/** Free text of a given length is built from these: plainly filler, never mistaken for a guest's words. */
// prettier-ignore
export const FILLER_WORDS = [
  'lorem', 'ipsum', 'dolor', 'sit', 'amet', 'consectetur', 'adipiscing', 'elit', 'sed', 'do',
  'eiusmod', 'tempor', 'incididunt', 'ut', 'labore', 'et', 'dolore', 'magna', 'aliqua', 'enim',
  'ad', 'minim', 'veniam', 'quis', 'nostrud', 'exercitation', 'ullamco', 'laboris', 'nisi', 'aliquip',
];
